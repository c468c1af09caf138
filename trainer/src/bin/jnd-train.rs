//! `jnd-train`: data, training and evaluation commands (see the crate docs and the model cards).

use std::process::ExitCode;

const USAGE: &str = "usage: jnd-train <command>

Commands arrive with the model issues: ladders, labels, vpjnd, eval-vpjnd, classifiers, dmvjnd,
eval-dmvjnd, eval-machine-coding. Training never runs in CI.

  devices    list the burn backends compiled into this build";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("devices") => {
            for (name, acc) in [
                ("cpu (flex)", jnd_model::Accelerator::Cpu),
                ("wgpu", jnd_model::Accelerator::Wgpu),
                ("cuda", jnd_model::Accelerator::Cuda),
            ] {
                match jnd_model::select_device(acc) {
                    Ok(device) => println!("{name}: available ({device:?})"),
                    Err(e) => println!("{name}: {e}"),
                }
            }
            ExitCode::SUCCESS
        }
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::FAILURE
        }
    }
}
