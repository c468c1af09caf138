//! The CLI's cjpeg-style argument normaliser and clap parser on arbitrary argv (NUL-separated, any
//! bytes): never a panic.
#![no_main]

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use clap::{CommandFactory, Parser};
use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "../../encoder/src/bin/jndenc/argv.rs"]
mod argv;
#[allow(dead_code)]
#[path = "../../encoder/src/bin/jndenc/cli.rs"]
mod cli;

fuzz_target!(|data: &[u8]| {
    let mut args = vec![OsString::from("jndenc")];
    args.extend(data.split(|&b| b == 0).map(|a| OsString::from_vec(a.to_vec())));
    let normalised = argv::normalise(args, &cli::Cli::command());
    assert_eq!(normalised.first().map(|a| a.as_os_str()), Some(std::ffi::OsStr::new("jndenc")));
    let _ = cli::Cli::try_parse_from(normalised);
});
