//! `jndenc`: a drop-in replacement for `cjpeg`. See `jndenc --help`; the program is
//! [`jndenc::cli::run`].

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(jndenc::cli::run(std::env::args_os().collect()))
}
