//! The quality decision end to end, as a user runs it: the `jndenc` binary on each picture with the
//! default auto mode (the quality prior, candidates judged by the teacher: butteraugli, then
//! SSIMULACRA 2), the same search with `--decider vp-jnd` (the whole-picture judge, the real metrics
//! only within its uncertainty band), the first generation's searches (`--search block` with the
//! teacher, and with the patch model below 3 MP), and one final encode at the quality auto mode chose
//! (same codec), side by side in one run so machine noise cancels in the ratios. Prints a table with
//! seconds per MP, candidates, candidates a real metric measured, and peak memory.
//!
//! ```sh
//! cargo bench -p encoder --bench decision                      # JPEG, validation photos + 6 MP
//! JND_BENCH_LARGE=1 cargo bench -p encoder --bench decision    # also a 24 MP mosaic
//! JND_BENCH_HEIF=1 cargo bench -p encoder --bench decision     # HEIF on the validation photos too
//! ```
//!
//! Pictures: a 0.4 MP mosaic, the validation photos 004, 009, 014, 019 of
//! `../shared/data/photos/wikipedia/` (about 1 MP, never trained on), and 6 MP (and 24 MP) mosaics of
//! the training photos (`cargo run --example mosaic`) written
//! to the target folder. Each configuration is one process, so its peak memory is its own.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

struct Run {
    seconds: f64,
    quality: u64,
    candidates: usize,
    checked: usize,
    peak_mb: f64,
}

/// One configuration on one picture. The seconds are a plain run's, as a user runs it (no report,
/// nothing printed: a report also encodes the top quality for its saving, which made one encode
/// look twice as slow at 1 MP); candidates, measured candidates and peak memory come from a second
/// run with `-verbose -verbose --report`.
fn jndenc(args: &[&str], input: &Path, out: &Path) -> Run {
    let t = Instant::now();
    let plain = Command::new(env!("CARGO_BIN_EXE_jndenc"))
        .args(args)
        .arg("-outfile")
        .arg(out)
        .arg(input)
        .output()
        .expect("jndenc runs");
    let seconds = t.elapsed().as_secs_f64();
    assert!(
        plain.status.success(),
        "jndenc {args:?} {}: {}",
        input.display(),
        String::from_utf8_lossy(&plain.stderr)
    );
    let report = out.with_extension("json");
    let output = Command::new(env!("CARGO_BIN_EXE_jndenc"))
        .args(args)
        .args(["-verbose", "-verbose", "--report"])
        .arg(&report)
        .arg("-outfile")
        .arg(out)
        .arg(input)
        .output()
        .expect("jndenc runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "jndenc {args:?} {}: {stderr}", input.display());
    let peak_mb = stderr
        .lines()
        .find_map(|l| l.strip_prefix("jndenc: peak memory ")?.strip_suffix(" MB")?.parse().ok())
        .unwrap_or(f64::NAN);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("report")).expect("report JSON");
    let image = &json["images"][0];
    Run {
        seconds,
        quality: image["quality"].as_u64().unwrap_or(0),
        candidates: image["candidates"].as_array().map_or(0, Vec::len),
        checked: image["candidates"]
            .as_array()
            .map_or(0, |c| c.iter().filter(|c| c["checked"].as_bool() == Some(true)).count()),
        peak_mb,
    }
}

fn mosaic(root: &Path, mp: f64) -> Option<PathBuf> {
    let out = root.join(format!("target/bench-mosaic-{mp}mp.png"));
    if !out.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["run", "--release", "-q", "-p", "encoder", "--example", "mosaic", "--"])
            .arg(root.join("../shared/data/photos/wikipedia"))
            .arg(mp.to_string())
            .arg(&out)
            .current_dir(root)
            .status()
            .ok()?;
        if !status.success() {
            return None;
        }
    }
    Some(out)
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let photos = root.join("../shared/data/photos/wikipedia");
    let mut pictures: Vec<PathBuf> = mosaic(&root, 0.4).into_iter().collect();
    pictures.extend(
        ["004.png", "009.png", "014.png", "019.png"].iter().map(|n| photos.join(n)).filter(|p| p.exists()),
    );
    if pictures.is_empty() {
        pictures.push(root.join("fixtures/photo.png"));
    }
    pictures.extend(mosaic(&root, 6.0));
    if std::env::var_os("JND_BENCH_LARGE").is_some() {
        pictures.extend(mosaic(&root, 24.0));
    }
    let tmp = tempfile::tempdir().expect("temporary folder");
    let mut formats = vec![("jpeg", "jpg")];
    if std::env::var_os("JND_BENCH_HEIF").is_some() {
        formats.push(("heif", "heic"));
    }
    println!(
        "| picture | format | MP | run | s | s/MP | x one encode | candidates | measured | quality | peak MB | bytes/pixel over 100 MB |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (format, ext) in formats {
        for picture in &pictures {
            let name = picture.file_name().and_then(|n| n.to_str()).unwrap_or("?").to_string();
            if format == "heif" && name.starts_with("bench-mosaic") {
                continue;
            }
            let (w, h) = image::image_dimensions(picture).expect("picture dimensions");
            let pixels = f64::from(w) * f64::from(h);
            let mp = pixels / 1e6;
            let out = tmp.path().join(format!("out.{ext}"));
            let large = mp > 3.0;
            let mut configs: Vec<(&str, Vec<&str>)> = vec![
                ("auto (prior + teacher)", vec![]),
                ("--decider vp-jnd", vec!["--decider", "vp-jnd"]),
                ("--search block (teacher)", vec!["--search", "block"]),
            ];
            if !large {
                configs.push((
                    "--search block --decider model",
                    vec!["--search", "block", "--decider", "model"],
                ));
            }
            let runs: Vec<(&str, Run)> = configs
                .into_iter()
                .map(|(label, mut args)| {
                    args.extend(["--format", format]);
                    (label, jndenc(&args, picture, &out))
                })
                .collect();
            let q = runs[0].1.quality.to_string();
            let mut final_args = vec!["--format", format, "-quality", &q];
            if format == "jpeg" {
                final_args.extend(["--codec", "jpegli"]);
            }
            let final_encode = jndenc(&final_args, picture, &out);
            let one = final_encode.seconds;
            for (label, r) in runs.iter().map(|(l, r)| (*l, r)).chain([("one final encode", &final_encode)]) {
                println!(
                    "| {name} | {format} | {mp:.1} | {label} | {:.2} | {:.3} | {:.1} | {} | {} | {} | {:.0} | {:.1} |",
                    r.seconds,
                    r.seconds / mp,
                    r.seconds / one,
                    r.candidates,
                    r.checked,
                    r.quality,
                    r.peak_mb,
                    ((r.peak_mb - 100.0).max(0.0) * 1e6) / pixels
                );
            }
        }
    }
}
