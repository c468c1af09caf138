//! Determinism at fixed quality: the same input and switches give byte-identical output across runs,
//! across `-j 1` / `-j 2` in batch mode, and between a file and standard input, for JPEG and HEIF.
//! (Auto quality's determinism is tested in `tests/auto.rs`.)
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use common::*;

/// Encodes the photo fixtures in one batch with `jobs` threads; returns each output's bytes.
fn batch(switches: &[&str], jobs: &str, extension: &str) -> Vec<Vec<u8>> {
    let dir = tempfile::tempdir().unwrap();
    let outdir = dir.path().join("out");
    let names = ["photo.png", "photo.ppm", "photo.bmp", "photo.tga", "graphic.gif", "gray.pgm"];
    // Distinct stems (batch mode refuses two inputs that would share an output name).
    let inputs: Vec<String> = names
        .iter()
        .map(|n| {
            let copy = dir.path().join(n.replace('.', "-") + "." + n.rsplit('.').next().unwrap());
            std::fs::copy(fixture(n), &copy).unwrap();
            copy.to_str().unwrap().to_string()
        })
        .collect();
    let mut args: Vec<&str> = switches.to_vec();
    args.extend(["--outdir", outdir.to_str().unwrap(), "-j", jobs]);
    args.extend(inputs.iter().map(String::as_str));
    ok(run(&args));
    let mut outputs: Vec<_> = std::fs::read_dir(&outdir).unwrap().map(|e| e.unwrap().path()).collect();
    outputs.sort();
    assert_eq!(outputs.len(), names.len(), "{outputs:?}");
    assert!(outputs.iter().all(|p| p.extension().is_some_and(|e| e == extension)));
    outputs.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

#[test]
fn fixed_quality_jpeg_is_identical_across_runs_threads_and_stdin() {
    let switches = ["-quality", "80", "-optimize", "-progressive"];
    let one = batch(&switches, "1", "jpg");
    let two = batch(&switches, "2", "jpg");
    assert!(one == two, "-j 1 and -j 2 differ");
    assert!(one == batch(&switches, "2", "jpg"), "a second -j 2 run differs");
    let photo = std::fs::read(fixture("photo.ppm")).unwrap();
    let mut args = switches.to_vec();
    args.push(fixture("photo.ppm").to_str().unwrap().to_string().leak());
    let from_file = ok(run(&args));
    let from_stdin = ok(run_stdin(&switches, &photo));
    assert_eq!(from_file, from_stdin);
    assert!(one.contains(&from_file), "batch output differs from the single-file run");
}

#[test]
fn fixed_quality_heif_is_identical_across_runs_and_threads() {
    let switches = ["--format", "heif", "-quality", "50"];
    let one = batch(&switches, "1", "heic");
    let two = batch(&switches, "2", "heic");
    assert!(one == two, "-j 1 and -j 2 differ");
    let photo = std::fs::read(fixture("photo.png")).unwrap();
    let a = ok(run_stdin(&switches, &photo));
    let b = ok(run_stdin(&switches, &photo));
    assert_eq!(a, b);
}
