//! `jnd-train classifiers` in chunks: a run stopped after its first epoch (`--stop-after`) and
//! continued with `--resume` ends with the same weights, optimiser state and log as one uninterrupted
//! run of the same schedule (real networks on the 20 CIFAR-10 fixtures).
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::path::{Path, PathBuf};
use std::process::Command;

/// An ImageFolder layout (`train/<class>/`, `test/<class>/`) of the committed CIFAR-10 fixtures.
fn cifar_folder(root: &Path) {
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/cifar");
    for entry in std::fs::read_dir(&fixtures).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some((class, number)) = name.split_once('-') else { continue };
        for part in ["train", "test"] {
            let folder = root.join(part).join(class);
            std::fs::create_dir_all(&folder).unwrap();
            std::fs::copy(&path, folder.join(number)).unwrap();
        }
    }
}

fn train(data: &Path, out: &Path, extra: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_jnd-train"))
        .args(["--device", "cpu", "classifiers", "--epochs", "2", "--batch", "10", "--cifar"])
        .arg(data)
        .arg("--out")
        .arg(out.join("c.bpk"))
        .arg("--log")
        .arg(out.join("log.csv"))
        .args(extra)
        .env_remove("JNDENC_DEVICE")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{stderr}");
    stderr
}

#[test]
fn a_resumed_run_ends_where_an_uninterrupted_one_does() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("cifar");
    cifar_folder(&data);
    let (whole, chunks) = (dir.path().join("whole"), dir.path().join("chunks"));
    train(&data, &whole, &[]);
    let said = train(&data, &chunks, &["--stop-after", "0"]);
    assert!(said.contains("epoch 1/2") && !said.contains("epoch 2/2"), "{said}");
    let log = std::fs::read_to_string(chunks.join("log.csv")).unwrap();
    assert_eq!(log.lines().count(), 2, "one epoch logged: {log}");
    let said = train(&data, &chunks, &["--resume"]);
    assert!(said.contains("resuming after epoch 1 of 2") && said.contains("epoch 2/2"), "{said}");
    // Training on the CPU is not bitwise deterministic (parallel sums), so the logs are compared:
    // the second epoch's loss and test accuracies as an uninterrupted run's, and far from those of a
    // resume that lost AdamW's moments (which is what the optimiser state is for).
    let losses = |folder: &Path| -> Vec<Vec<f64>> {
        let text = std::fs::read_to_string(folder.join("log.csv")).unwrap();
        text.lines().skip(1).map(|l| l.split(',').skip(4).map(|f| f.parse().unwrap()).collect()).collect()
    };
    let amnesia = dir.path().join("amnesia");
    train(&data, &amnesia, &["--stop-after", "0"]);
    std::fs::remove_file(amnesia.join("c.optim.bpk")).unwrap();
    let said = train(&data, &amnesia, &["--resume"]);
    assert!(said.contains("AdamW's moments start afresh"), "{said}");
    let (w, c, a) = (losses(&whole), losses(&chunks), losses(&amnesia));
    eprintln!("whole {w:?}\nresumed {c:?}\nwithout state {a:?}");
    assert_eq!((w.len(), c.len()), (2, 2));
    let close = (w[1][0] - c[1][0]).abs();
    let far = (w[1][0] - a[1][0]).abs();
    assert!(close < 1e-3 && far > 20.0 * close.max(1e-5), "loss gaps: resumed {close}, without state {far}");
    // Resuming without a log is one clear error.
    let output = Command::new(env!("CARGO_BIN_EXE_jnd-train"))
        .args(["classifiers", "--resume", "--cifar"])
        .arg(&data)
        .arg("--out")
        .arg(dir.path().join("none.bpk"))
        .arg("--log")
        .arg(dir.path().join("none.csv"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--resume: reading"));
}
