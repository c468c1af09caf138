//! Bad input: each case exits 1 with one line naming the problem, never panics, and leaves no
//! output file behind.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use std::path::Path;

use common::*;

/// Runs jndenc on `input` with `-outfile` and checks the failure contract.
fn fails_cleanly(extra: &[&str], input: &Path, expect: &str) {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.jpg");
    let mut args = extra.to_vec();
    args.extend(["-outfile", target.to_str().unwrap(), input.to_str().unwrap()]);
    let out = run(&args);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line expected: {err}");
    assert!(err.starts_with("jndenc: "), "{err}");
    assert!(err.to_lowercase().contains(&expect.to_lowercase()), "expected '{expect}' in: {err}");
    assert!(!target.exists(), "no output may be written");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

fn write_temp(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn truncated_png_and_jpeg() {
    let dir = tempfile::tempdir().unwrap();
    let png = std::fs::read(fixture("photo.png")).unwrap();
    let cut = write_temp(dir.path(), "cut.png", &png[..png.len() / 2]);
    fails_cleanly(&[], &cut, "PNG");
    let header_only = write_temp(dir.path(), "header.png", &png[..40]);
    fails_cleanly(&[], &header_only, "PNG");
    let jpeg = ok(run(&["-q", "80", fixture("photo.ppm").to_str().unwrap()]));
    let cut = write_temp(dir.path(), "cut.jpg", &jpeg[..300]);
    fails_cleanly(&[], &cut, "JPEG");
}

#[test]
fn truncated_tiff_and_webp() {
    let dir = tempfile::tempdir().unwrap();
    for (name, format) in [("photo16.tif", "TIFF"), ("photo.webp", "WebP")] {
        let bytes = std::fs::read(fixture(name)).unwrap();
        for (cut, len) in [("half", bytes.len() / 2), ("header", 16)] {
            let path = write_temp(dir.path(), &format!("{cut}-{name}"), &bytes[..len]);
            fails_cleanly(&[], &path, format);
        }
    }
}

#[test]
fn zero_byte_file_and_empty_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let empty = write_temp(dir.path(), "empty.png", b"");
    fails_cleanly(&[], &empty, "empty");
    let out = run_stdin(&["-q", "80"], b"");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("empty"), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
}

#[test]
fn absurd_dimensions_are_refused_before_allocation() {
    let dir = tempfile::tempdir().unwrap();
    let huge = write_temp(dir.path(), "huge.ppm", b"P6\n100000 100000\n255\n\x00\x00\x00");
    fails_cleanly(&[], &huge, "100000x100000");
    // Within JPEG's limits but over -maxmemory.
    let big = write_temp(dir.path(), "big.ppm", b"P6\n12000 12000\n255\n\x00\x00\x00");
    fails_cleanly(&["-maxmemory", "100M"], &big, "memory limit");
    // A TIFF header (no pixel data) claiming 100000x100000 and one within the sides but over
    // -maxmemory: refused from the header, as PPM is.
    for (name, side, extra, expect) in [
        ("huge.tif", 100_000u32, &[][..], "100000x100000"),
        ("big.tif", 12_000, &["-maxmemory", "100M"][..], "memory limit"),
    ] {
        let tiff = write_temp(dir.path(), name, &tiff_header(side, side));
        fails_cleanly(extra, &tiff, expect);
    }
}

/// A little-endian baseline RGB TIFF header of `width` x `height` whose one strip is missing.
fn tiff_header(width: u32, height: u32) -> Vec<u8> {
    let entries: [(u16, u16, u32); 9] = [
        (256, 4, width),
        (257, 4, height),
        (258, 3, 8),
        (259, 3, 1),
        (262, 3, 2),
        (273, 4, 200),
        (277, 3, 3),
        (278, 4, height),
        (279, 4, width.wrapping_mul(height).wrapping_mul(3)),
    ];
    let mut bytes = b"II*\0\x08\0\0\0".to_vec();
    bytes.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for (tag, kind, value) in entries {
        bytes.extend_from_slice(&tag.to_le_bytes());
        bytes.extend_from_slice(&kind.to_le_bytes());
        bytes.extend_from_slice(&1u32.to_le_bytes());
        if kind == 3 {
            bytes.extend_from_slice(&(value as u16).to_le_bytes());
            bytes.extend_from_slice(&[0, 0]);
        } else {
            bytes.extend_from_slice(&value.to_le_bytes());
        }
    }
    bytes.extend_from_slice(&[0; 68]);
    bytes
}

#[test]
fn unknown_format_and_directory() {
    let dir = tempfile::tempdir().unwrap();
    let text = write_temp(dir.path(), "notes.txt", b"this is not an image\n");
    fails_cleanly(&[], &text, "unrecognised input format");
    fails_cleanly(&[], dir.path(), "is a directory");
    fails_cleanly(&[], &dir.path().join("missing.png"), "missing.png");
}

#[test]
fn unwritable_output_path() {
    let out =
        run(&["-q", "80", "-outfile", "/nonexistent-folder/out.jpg", fixture("photo.ppm").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("/nonexistent-folder/out.jpg") && !err.contains("panicked"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}

#[test]
fn bad_switch_values_and_unknown_switches() {
    let input = fixture("photo.ppm");
    for (args, expect) in [
        (vec!["-quality", "abc"], "quality"),
        (vec!["-quality", "101"], "quality"),
        (vec!["-sample", "9x9"], "sample"),
        (vec!["-restart", "-1"], "restart"),
        (vec!["-dct", "slow"], "dct"),
        (vec!["-smooth", "200"], "smooth"),
        (vec!["-qslots", "7"], "qslots"),
        (vec!["-maxmemory", "lots"], "maxmemory"),
        (vec!["-format", "webp"], "format"),
        (vec!["-frobnicate"], "frobnicate"),
        (vec!["-grayscale", "-rgb"], "exclude"),
        (vec!["-arithmetic"], "arithmetic"),
        (vec!["-qtables", "/nonexistent/tables.txt"], "tables.txt"),
    ] {
        fails_cleanly(&args, &input, expect);
    }
}

#[test]
fn the_input_is_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.ppm");
    std::fs::copy(fixture("photo.ppm"), &input).unwrap();
    let before = std::fs::read(&input).unwrap();
    let out = run(&["-q", "80", "-outfile", input.to_str().unwrap(), input.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("overwrite the input"), "{}", stderr(&out));
    assert_eq!(std::fs::read(&input).unwrap(), before);
}

#[test]
fn an_existing_output_is_replaced_whole() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.jpg");
    std::fs::write(&target, vec![0u8; 1_000_000]).unwrap();
    ok(run(&["-q", "80", "-outfile", target.to_str().unwrap(), fixture("photo.ppm").to_str().unwrap()]));
    let written = std::fs::read(&target).unwrap();
    assert!(written.len() < 100_000 && written.starts_with(&[0xFF, 0xD8]));
    jndenc::jpeg_info::parse(&written).unwrap();
}

#[test]
fn killing_the_encoder_never_leaves_a_partial_output() {
    // A large, noisy input so encoding and writing take long enough to be interrupted at many points.
    let dir = tempfile::tempdir().unwrap();
    let (w, h) = (2000usize, 1400usize);
    let mut ppm = format!("P6\n{w} {h}\n255\n").into_bytes();
    let mut state = 0x1234_5678u32;
    ppm.extend((0..w * h * 3).map(|_| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        (state >> 24) as u8
    }));
    let input = write_temp(dir.path(), "big.ppm", &ppm);
    let target = dir.path().join("out.jpg");
    let old = b"the previous output".to_vec();
    // One uninterrupted run sets the time scale; the kills are spread from the start to past its end.
    let started = std::time::Instant::now();
    ok(run(&["-q", "95", "-outfile", target.to_str().unwrap(), input.to_str().unwrap()]));
    let full = started.elapsed().as_millis() as u64;
    let complete = std::fs::read(&target).unwrap();
    let mut outcomes = (0, 0);
    for delay_ms in (0..10u64).map(|k| full * k / 8) {
        std::fs::write(&target, &old).unwrap();
        let mut child = jndenc()
            .args(["-q", "95", "-outfile", target.to_str().unwrap(), input.to_str().unwrap()])
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        child.kill().unwrap(); // SIGKILL on Unix: no handler, no cleanup
        let status = child.wait().unwrap();
        let now = std::fs::read(&target).unwrap();
        if now == old {
            outcomes.0 += 1;
        } else {
            // Otherwise the rename happened: the whole new file, which decodes.
            assert_eq!(now, complete, "after {delay_ms} ms (status {status:?}): not the complete output");
            outcomes.1 += 1;
        }
    }
    eprintln!("old file kept {} times, complete new file {} times", outcomes.0, outcomes.1);
    // Never anything else: every case above is either the old file or a complete new one.
    assert_eq!(outcomes.0 + outcomes.1, 10);
}
