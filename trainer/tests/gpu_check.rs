//! `jnd-train gpu-check` on this machine's CPU, small: the script a GPU machine runs keeps working
//! (real models on the fixtures, a table with a row per backend run and a line per backend not run).
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::path::PathBuf;
use std::process::Command;

#[test]
fn gpu_check_runs_the_models_on_the_cpu_and_names_the_backends_it_could_not_run() {
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("table.md");
    let output = Command::new(env!("CARGO_BIN_EXE_jnd-train"))
        .args(["--device", "cpu", "gpu-check", "--megapixels", "0.05", "--candidates", "3", "--steps", "1"])
        .args(["--batch", "2", "--fixtures"])
        .arg(&fixtures)
        .arg("--out")
        .arg(&table)
        .env_remove("JNDENC_DEVICE")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let text = std::fs::read_to_string(&table).unwrap();
    assert_eq!(text, String::from_utf8_lossy(&output.stdout), "the file and standard output differ");
    let row = text.lines().find(|l| l.starts_with("| cpu |")).unwrap();
    let cells: Vec<&str> = row.split('|').map(str::trim).filter(|c| !c.is_empty()).collect();
    assert_eq!(cells.len(), 9, "{row}");
    assert_eq!(&cells[1..3], ["(reference)", "(reference)"], "{row}");
    // Every rate and step time is a positive number.
    for cell in &cells[3..] {
        let first: f64 = cell.split_whitespace().next().unwrap().parse().unwrap();
        assert!(first.is_finite() && first > 0.0, "{cell} in {row}");
    }
    for (backend, compiled) in [("cuda", cfg!(feature = "cuda")), ("wgpu", cfg!(feature = "wgpu"))] {
        if !compiled {
            let line = format!("{backend}: not run (the {backend} backend is not compiled into this build");
            assert!(text.contains(&line), "{text}");
        }
    }
}
