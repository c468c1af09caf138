//! The same command lines through Debian's cjpeg (libjpeg-turbo) and jndenc: both succeed, and what
//! the switches mean is the same (quantisation tables, components, sampling, restart interval). With
//! `-revert` (libjpeg-turbo's defaults instead of mozjpeg's) the files are byte-identical.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use common::*;
use jndenc::jpeg_info;

fn cjpeg(args: &[&str]) -> Vec<u8> {
    let out = tool("cjpeg").args(args).output().expect("run cjpeg");
    assert!(out.status.success(), "cjpeg {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

// Not graphic.gif: libjpeg-turbo 2.1.5's GIF reader turns that file (a 2-entry global colour table
// plus a local one, as the `image` crate writes GIFs) into a grayscale picture unrelated to its true
// luma (mean absolute difference 43 levels), where jndenc decodes the colours correctly.
const INPUTS: [&str; 4] = ["photo.ppm", "photo.bmp", "photo.tga", "gray.pgm"];

const COMMAND_LINES: [&[&str]; 9] = [
    &["-quality", "75", "-baseline"],
    &["-quality", "20", "-baseline"],
    &["-quality", "95", "-baseline", "-optimize"],
    &["-q", "50", "-baseline", "-sample", "1x1"],
    &["-q", "60", "-baseline", "-sample", "2x1"],
    &["-q", "80", "-baseline", "-grayscale"],
    &["-q", "80", "-baseline", "-restart", "3"],
    &["-q", "80", "-baseline", "-restart", "7B"],
    &["-quality", "90,60", "-baseline", "-qslots", "0,1,1"],
];

#[test]
fn same_switches_same_tables_components_and_restarts() {
    for input in INPUTS {
        let path = fixture(input);
        let path = path.to_str().unwrap();
        for line in COMMAND_LINES {
            let mut args = line.to_vec();
            args.push(path);
            let theirs = jpeg_info::parse(&cjpeg(&args)).expect("cjpeg output parses");
            let ours = jpeg_info::parse(&ok(run(&args))).expect("jndenc output parses");
            let context = format!("{input} {line:?}");
            assert_eq!(ours.quant_tables, theirs.quant_tables, "{context}: quantisation tables");
            assert_eq!(ours.components, theirs.components, "{context}: components");
            assert_eq!(ours.restart_interval, theirs.restart_interval, "{context}: restart interval");
            assert_eq!(
                (ours.sof, ours.width, ours.height),
                (theirs.sof, theirs.width, theirs.height),
                "{context}"
            );
        }
    }
}

#[test]
fn revert_is_byte_identical_to_libjpeg_turbo() {
    for input in INPUTS {
        let path = fixture(input);
        let path = path.to_str().unwrap();
        for line in [
            &["-quality", "80"][..],
            &["-quality", "30", "-optimize"],
            &["-q", "90", "-progressive"],
            &["-q", "70", "-sample", "1x1", "-restart", "2"],
            &["-q", "85", "-dct", "float"],
        ] {
            let mut args = line.to_vec();
            args.push(path);
            let theirs = cjpeg(&args);
            let mut ours_args = vec!["-revert"];
            ours_args.extend_from_slice(&args);
            let ours = ok(run(&ours_args));
            assert!(
                ours == theirs,
                "{input} {line:?}: jndenc -revert differs from cjpeg ({} vs {} bytes)",
                ours.len(),
                theirs.len()
            );
        }
    }
}

#[test]
fn default_mozjpeg_output_is_smaller_than_libjpeg_turbo_at_equal_tables() {
    // Same tables (quality 75, Annex K): trellis + progressive + optimised Huffman must pay off.
    let path = fixture("photo.ppm");
    let theirs = cjpeg(&["-quality", "75", path.to_str().unwrap()]);
    let ours = ok(run(&["-quality", "75", path.to_str().unwrap()]));
    assert!(ours.len() < theirs.len(), "jndenc {} bytes vs cjpeg {} bytes", ours.len(), theirs.len());
    let a = jpeg_info::parse(&ours).unwrap();
    let b = jpeg_info::parse(&theirs).unwrap();
    assert_eq!(a.quant_tables, b.quant_tables);
}

#[test]
fn djpeg_decodes_jndenc_output_like_the_image_crate() {
    let path = fixture("photo.ppm");
    let ours = ok(run(&["-quality", "85", path.to_str().unwrap()]));
    let out = tool("djpeg")
        .arg("-pnm")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().expect("stdin").write_all(&ours)?;
            child.wait_with_output()
        })
        .expect("run djpeg");
    assert!(out.status.success());
    let by_djpeg = decode_bytes(&out.stdout);
    let by_crate = decode_bytes(&ours);
    assert!(psnr(&by_djpeg, &by_crate) > 45.0, "decoders disagree beyond upsampling rounding");
}
