//! `jnd-train devices`: which burn backends this build has, and whether each runs on this machine
//! (`jnd_model::select_device` checks what a GPU backend needs, then runs a smoke test).

use std::time::Instant;

/// Lists the backends and whether each computes here.
pub fn run() -> anyhow::Result<()> {
    for accelerator in jnd_model::Accelerator::ALL {
        let started = Instant::now();
        match jnd_model::select_device(accelerator) {
            Ok(device) => println!(
                "{accelerator}: available and computing ({device:?}, check and smoke test {:.1} ms)",
                started.elapsed().as_secs_f64() * 1e3
            ),
            Err(e) => println!("{accelerator}: {e}"),
        }
    }
    Ok(())
}
