//! `jnd-train devices`: which burn backends this build has, each proved by a smoke test.

use std::time::Instant;

/// Lists the backends and whether each computes.
pub fn run() -> anyhow::Result<()> {
    for (name, acc) in [
        ("cpu (flex)", jnd_model::Accelerator::Cpu),
        ("wgpu", jnd_model::Accelerator::Wgpu),
        ("cuda", jnd_model::Accelerator::Cuda),
    ] {
        match jnd_model::select_device(acc) {
            Ok(device) => {
                // Prove the device computes: a 256x256 matmul checked against its known sum.
                let started = Instant::now();
                let result = std::panic::catch_unwind(|| jnd_model::device::smoke_test(&device));
                match result {
                    Ok(Ok(())) => println!(
                        "{name}: available and computing ({device:?}, smoke test {:.1} ms)",
                        started.elapsed().as_secs_f64() * 1e3
                    ),
                    Ok(Err(e)) => println!("{name}: compiled in, but the smoke test failed: {e}"),
                    Err(_) => {
                        println!("{name}: compiled in, but no usable adapter (the backend panicked)")
                    }
                }
            }
            Err(e) => println!("{name}: {e}"),
        }
    }
    Ok(())
}
