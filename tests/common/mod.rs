//! Helpers shared by the end-to-end tests: run the built `jndenc`, find fixtures, measure pixels.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use jndenc::{DecodeOptions, Image, decode};

/// The built `jndenc` binary.
pub fn jndenc() -> Command {
    Command::new(env!("CARGO_BIN_EXE_jndenc"))
}

/// A JSON file (a report) read back.
pub fn json(path: impl AsRef<Path>) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A file in `fixtures/`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures").join(name)
}

/// Runs `jndenc args...` with no standard input.
pub fn run(args: &[&str]) -> Output {
    jndenc().args(args).stdin(Stdio::null()).output().expect("spawn jndenc")
}

/// Runs `jndenc args...` with `input` on standard input.
pub fn run_stdin(args: &[&str], input: &[u8]) -> Output {
    use std::io::Write;
    let mut child = jndenc()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn jndenc");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("wait jndenc");
    writer.join().expect("stdin writer");
    out
}

/// Standard error as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts a successful run and returns standard output.
pub fn ok(out: Output) -> Vec<u8> {
    assert!(out.status.success(), "jndenc failed ({:?}): {}", out.status.code(), stderr(&out));
    out.stdout
}

/// Decodes any supported bytes with the library's decoder.
pub fn decode_bytes(bytes: &[u8]) -> Image {
    decode::decode(bytes, &DecodeOptions::default()).expect("decode output")
}

/// Reads and decodes a fixture.
pub fn fixture_image(name: &str) -> Image {
    decode_bytes(&std::fs::read(fixture(name)).expect("read fixture"))
}

/// PSNR in dB between two images of the same size and colour type.
pub fn psnr(a: &Image, b: &Image) -> f64 {
    assert_eq!((a.width(), a.height(), a.color()), (b.width(), b.height(), b.color()));
    jnd_model::metrics::psnr_samples(a.pixels(), b.pixels())
}

/// A Debian tool (cjpeg, djpeg, heif-info), which `.ci/run` installs. Missing tools fail the test
/// loudly rather than skipping it.
pub fn tool(name: &str) -> Command {
    let found = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|p| p.join(name).is_file()))
        .unwrap_or(false);
    assert!(found, "{name} is not installed (apt-get install libjpeg-turbo-progs libheif-examples)");
    Command::new(name)
}

/// A JPEG without its COM segments (jndenc's marker among them), every other byte as written.
pub fn without_comments(jpeg: &[u8]) -> Vec<u8> {
    let mut out = jpeg[..2].to_vec();
    for segment in jndenc::jpeg_info::segments(jpeg) {
        let segment = segment.expect("a well-formed JPEG");
        if segment.marker != 0xFE {
            out.extend_from_slice(&jpeg[segment.start..segment.end]);
        }
    }
    out
}
