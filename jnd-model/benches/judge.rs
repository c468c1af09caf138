//! The whole-picture judge's cost per candidate against the two metrics it predicts, side by side in
//! one run: butteraugli's 3-norm and SSIMULACRA 2 (both with the original prepared once, as auto mode
//! runs them) against the judge (block features of the candidate plus the network on the CPU, one
//! candidate at a time and in batches of 4). Pictures of about 0.4, 1 and 6 MP. Prints a Markdown
//! table (medians of interleaved runs; ratios against the two metrics together).
//!
//! ```sh
//! cargo bench -p jnd-model --bench judge
//! ```
//!
//! The photo is `../shared/data/photos/wikipedia/001.png` when present, else the fixture photo tiled;
//! `JND_BENCH_IMAGE=path` picks another. The network's weights are `jnd-model/weights/judge.bpk` when
//! present (the cost does not depend on them).

mod common;

use std::time::Instant;

use jnd_model::judge::{Judge, JudgeNet, JudgeReference};
use jnd_model::metrics::{ButteraugliRef, Ssimulacra2Ref};

fn main() {
    let device = jnd_model::select_device(jnd_model::Accelerator::Cpu).expect("cpu");
    let weights = concat!(env!("CARGO_MANIFEST_DIR"), "/weights/judge.bpk");
    let judge = match std::fs::read(weights) {
        Ok(bytes) => Judge::from_bytes(&bytes, &device).expect("judge weights"),
        Err(_) => Judge::from_net(JudgeNet::new(&device), &device),
    };
    let photo = common::load();
    println!(
        "| picture | MP | butteraugli + SSIMULACRA 2 per candidate | judge: features | judge: network | judge per candidate | batch of 4, per candidate | judge / metrics | batch / metrics |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for factor in [0.7, 1.0, 2.7] {
        let image = if factor == 1.0 { photo.clone() } else { common::resize(&photo, factor) };
        let distorted = common::candidate(&image);
        let mp = image.pixel_count() as f64 / 1e6;
        let bref = ButteraugliRef::new(&image).expect("reference");
        let sref = Ssimulacra2Ref::new(&image).expect("reference");
        let jref = JudgeReference::new(&image).expect("reference");
        let (mut metrics, mut features, mut network, mut batch) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let runs = if mp > 3.0 { 3 } else { 7 };
        for _ in 0..runs {
            let t = Instant::now();
            bref.compare(&distorted).expect("3-norm");
            sref.compare(&distorted).expect("ssimulacra2");
            metrics.push(t.elapsed().as_secs_f64());
            let t = Instant::now();
            let grid = jref.features(&distorted).expect("features");
            features.push(t.elapsed().as_secs_f64());
            let t = Instant::now();
            judge.predict(&[&grid]).expect("judge");
            network.push(t.elapsed().as_secs_f64());
            let t = Instant::now();
            let grids: Vec<_> = (0..4).map(|_| jref.features(&distorted).expect("features")).collect();
            let refs: Vec<_> = grids.iter().collect();
            judge.predict(&refs).expect("judge");
            batch.push(t.elapsed().as_secs_f64() / 4.0);
        }
        let (m, f, n, b) = (
            common::median(metrics),
            common::median(features),
            common::median(network),
            common::median(batch),
        );
        println!(
            "| {}x{} | {mp:.2} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {:.3}x | {:.3}x |",
            image.width(),
            image.height(),
            m * 1e3,
            f * 1e3,
            n * 1e3,
            (f + n) * 1e3,
            b * 1e3,
            (f + n) / m,
            b / m
        );
    }
    println!("\nrayon threads: {}; CPU (flex).", rayon::current_num_threads());
}
