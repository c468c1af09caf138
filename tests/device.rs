//! `--device` and `JNDENC_DEVICE` through the binary: a backend that is not compiled in, or cannot
//! run here, is refused in one line with exit status 1 before anything is written; the CPU always
//! runs; the switch is honoured or warned about, never silently ignored.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use std::process::{Output, Stdio};

use common::*;

/// `jndenc args... -outfile DIR/out.jpg photo.png` with `JNDENC_DEVICE` set to `env` (or unset).
fn encode(args: &[&str], env: Option<&str>) -> (Output, bool) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jpg");
    let mut command = jndenc();
    command.args(args).arg("-outfile").arg(&out).arg(fixture("photo.png")).stdin(Stdio::null());
    match env {
        Some(value) => command.env("JNDENC_DEVICE", value),
        None => command.env_remove("JNDENC_DEVICE"),
    };
    let output = command.output().unwrap();
    let written = out.exists();
    // Nothing else was left in the folder either (no temporary file).
    let left = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(left, usize::from(written), "files left: {left}");
    (output, written)
}

/// Exit 1, one line naming `needle`, no output file.
fn assert_refused(output: &Output, written: bool, needle: &str) {
    let text = stderr(output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert_eq!(text.trim_end().lines().count(), 1, "one line: {text}");
    assert!(text.contains(needle), "{text:?} lacks {needle:?}");
    assert!(!text.contains("panicked"), "{text}");
    assert!(!written, "an output was written: {text}");
}

#[cfg(not(feature = "cuda"))]
#[test]
fn cuda_not_compiled_in_is_one_line_exit_1_and_no_file() {
    for args in [
        &["--device", "cuda"][..],
        &["--device", "cuda", "--decider", "model"],
        &["--device", "cuda", "-quality", "80"],
    ] {
        let (output, written) = encode(args, None);
        assert_refused(&output, written, "`cuda` cargo feature");
    }
    // The same from the environment.
    let (output, written) = encode(&[], Some("cuda"));
    assert_refused(&output, written, "`cuda` cargo feature");
}

#[cfg(not(feature = "wgpu"))]
#[test]
fn wgpu_not_compiled_in_is_refused_the_same_way() {
    let (output, written) = encode(&["--device", "wgpu", "--target", "machine"], None);
    assert_refused(&output, written, "`wgpu` cargo feature");
}

/// With the backend compiled in, the answer depends on the machine: a GPU that runs, or one line
/// saying what is missing (the driver, a GPU, NVRTC, the CUDA headers), exit 1, no file.
#[cfg(feature = "cuda")]
#[test]
fn cuda_compiled_in_runs_or_says_what_is_missing() {
    let (output, written) = encode(&["--device", "cuda", "--decider", "model"], None);
    if output.status.success() {
        assert!(written);
    } else {
        assert_refused(&output, written, "device cuda: ");
    }
}

#[test]
fn an_unknown_device_in_the_environment_is_refused() {
    let (output, written) = encode(&[], Some("tpu"));
    assert_refused(&output, written, "unknown device JNDENC_DEVICE=\"tpu\": expected cpu, cuda or wgpu");
}

#[test]
fn the_cpu_runs_and_the_switch_overrides_the_environment() {
    // --device cpu wins over an environment naming a backend this build may not have.
    let (output, written) = encode(&["--device", "cpu", "--decider", "model"], Some("cuda"));
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(written);
    assert!(stderr(&output).is_empty(), "{}", stderr(&output));
    // An empty variable is no choice: the CPU.
    let (output, written) = encode(&["-quality", "80"], Some(""));
    assert!(output.status.success() && written, "{}", stderr(&output));
}
