//! cjpeg-style argument normalisation, before clap sees the arguments.
//!
//! cjpeg takes single-dash long switches, abbreviated down to a per-switch minimum and matched in a
//! fixed order (`-q` is `-quality`, `-o` is `-optimize`, `-outf` is `-outfile`), case-insensitively.
//! clap parses only `--long`, so each single-dash switch is rewritten to its `--long` form here:
//! first by cjpeg's own table (same keywords, minimum lengths and order as mozjpeg's `cjpeg.c`), then
//! by exact name or unique prefix among jndenc's own switches. Values that follow a switch are never
//! rewritten.

use std::ffi::OsString;

use clap::Command;

/// cjpeg's switches as `(keyword, minimum abbreviation, jndenc's long name)`, in cjpeg's match order.
pub const CJPEG_SWITCHES: &[(&str, usize, &str)] = &[
    ("arithmetic", 1, "arithmetic"),
    ("baseline", 1, "baseline"),
    ("dct", 2, "dct"),
    ("debug", 1, "verbose"),
    ("verbose", 1, "verbose"),
    ("version", 4, "version"),
    ("grayscale", 2, "grayscale"),
    ("greyscale", 2, "grayscale"),
    ("rgb", 3, "rgb"),
    ("icc", 1, "icc"),
    ("maxmemory", 3, "maxmemory"),
    ("optimize", 1, "optimize"),
    ("optimise", 1, "optimize"),
    ("outfile", 4, "outfile"),
    ("progressive", 1, "progressive"),
    ("memdst", 2, "memdst"),
    ("quality", 1, "quality"),
    ("qslots", 2, "qslots"),
    ("qtables", 2, "qtables"),
    ("quant-table", 7, "quant-table"),
    ("quant-baseline", 7, "quant-baseline"),
    ("restart", 1, "restart"),
    ("revert", 3, "revert"),
    ("sample", 2, "sample"),
    ("smooth", 2, "smooth"),
    ("targa", 1, "targa"),
    ("notrellis", 1, "notrellis"),
    ("nojfif", 6, "nojfif"),
];

/// cjpeg's `keymatch`: `arg` is a case-insensitive prefix of `keyword` at least `min` long.
pub fn keymatch(arg: &str, keyword: &str, min: usize) -> bool {
    arg.len() >= min
        && arg.len() <= keyword.len()
        && arg.chars().zip(keyword.chars()).all(|(a, k)| a.to_ascii_lowercase() == k)
}

/// A long switch of the clap command: its name (and aliases) and whether it takes a value.
struct LongSwitch {
    names: Vec<String>,
    takes_value: bool,
}

fn long_switches(command: &Command) -> Vec<LongSwitch> {
    command
        .get_arguments()
        .filter_map(|arg| {
            let long = arg.get_long()?;
            let mut names = vec![long.to_string()];
            names.extend(arg.get_all_aliases().unwrap_or_default().into_iter().map(str::to_string));
            let takes_value = arg.get_action().takes_values();
            Some(LongSwitch { names, takes_value })
        })
        .collect()
}

/// Resolves a single-dash switch name (without the dash) to jndenc's long name.
fn resolve(name: &str, switches: &[LongSwitch]) -> Option<String> {
    if let Some((_, _, long)) = CJPEG_SWITCHES.iter().find(|(k, min, _)| keymatch(name, k, *min)) {
        return Some((*long).to_string());
    }
    let lower = name.to_ascii_lowercase();
    if switches.iter().any(|s| s.names.contains(&lower)) {
        return Some(lower);
    }
    let mut candidates =
        switches.iter().filter(|s| s.names.iter().any(|n| n.starts_with(&lower))).map(|s| s.names[0].clone());
    match (candidates.next(), candidates.next()) {
        (Some(only), None) => Some(only),
        _ => None,
    }
}

fn takes_value(long: &str, switches: &[LongSwitch]) -> bool {
    switches.iter().any(|s| s.takes_value && s.names.iter().any(|n| n == long))
}

/// Rewrites cjpeg-style `-switch` arguments to `--switch` for clap.
pub fn normalise(args: Vec<OsString>, command: &Command) -> Vec<OsString> {
    let switches = long_switches(command);
    let mut out = Vec::with_capacity(args.len());
    let mut iter = args.into_iter();
    if let Some(program) = iter.next() {
        out.push(program);
    }
    let mut value_next = false;
    let mut rest_positional = false;
    for arg in iter {
        if value_next || rest_positional {
            value_next = false;
            out.push(arg);
            continue;
        }
        let Some(text) = arg.to_str() else {
            out.push(arg);
            continue;
        };
        if text == "--" {
            rest_positional = true;
            out.push(arg);
        } else if let Some(long) = text.strip_prefix("--") {
            let name = long.split('=').next().unwrap_or(long);
            value_next = !long.contains('=') && takes_value(name, &switches);
            out.push(arg);
        } else if let Some(name) = text.strip_prefix('-').filter(|n| !n.is_empty()) {
            match resolve(name, &switches) {
                Some(long) => {
                    value_next = takes_value(&long, &switches);
                    out.push(OsString::from(format!("--{long}")));
                }
                // Unknown: spell it as a long switch so the error names all of it, not its
                // first letter as a short-flag cluster.
                None if name.len() > 1 => out.push(OsString::from(format!("--{name}"))),
                None => out.push(arg),
            }
        } else {
            out.push(arg);
        }
    }
    out
}

/// Puts back the user's spelling of an unknown single-dash switch in a parse error: [`normalise`]
/// passes `-qualty` to clap as `--qualty`, and the user should read `-qualty`.
pub fn original_spelling(message: &str, original: &[OsString]) -> String {
    let mut message = message.to_string();
    for arg in original.iter().skip(1).filter_map(|a| a.to_str()) {
        if let Some(name) = arg.strip_prefix('-').filter(|n| n.len() > 1 && !n.starts_with('-')) {
            let name = name.split('=').next().unwrap_or(name);
            message = message.replace(&format!("'--{name}'"), &format!("'-{name}'"));
        }
    }
    message
}
