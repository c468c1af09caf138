//! The two metrics auto mode judges with, per candidate, side by side in one run: butteraugli with its
//! reference prepared once, SSIMULACRA 2 as the crate computes it (both sides every time), and
//! SSIMULACRA 2 with the original prepared once (`Ssimulacra2Ref`), on a ~1 MP photo and its 0.4 MP
//! reduction. Prints a Markdown table (median of interleaved runs, and ratios against butteraugli).
//!
//! ```sh
//! cargo bench -p jnd-model --bench metrics
//! ```
//!
//! The photo is `../shared/data/photos/wikipedia/001.png` (1276x850) when present, else the fixture
//! photo tiled to that size; `JND_BENCH_IMAGE=path` picks another.

mod common;

use std::time::Instant;

use jnd_model::metrics::{ButteraugliRef, Ssimulacra2Ref, ssimulacra2};

fn main() {
    let photo = common::load();
    println!(
        "| picture | MP | stage | butteraugli (prepared) | SSIMULACRA 2, crate | SSIMULACRA 2, prepared | crate / butteraugli | prepared / butteraugli |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for image in [common::resize(&photo, 0.7), photo.clone()] {
        let distorted = common::candidate(&image);
        let mp = image.pixel_count() as f64 / 1e6;
        let (mut prep_b, mut prep_s) = (Vec::new(), Vec::new());
        let (mut b, mut s_crate, mut s_prep) = (Vec::new(), Vec::new(), Vec::new());
        let mut scores = (0.0, 0.0);
        for _ in 0..7 {
            let t = Instant::now();
            let bref = ButteraugliRef::new(&image).expect("reference");
            prep_b.push(t.elapsed().as_secs_f64());
            let t = Instant::now();
            let sref = Ssimulacra2Ref::new(&image).expect("reference");
            prep_s.push(t.elapsed().as_secs_f64());
            let t = Instant::now();
            bref.compare(&distorted).expect("compare");
            b.push(t.elapsed().as_secs_f64());
            let t = Instant::now();
            scores.0 = ssimulacra2(&image, &distorted).expect("crate");
            s_crate.push(t.elapsed().as_secs_f64());
            let t = Instant::now();
            scores.1 = sref.compare(&distorted).expect("prepared");
            s_prep.push(t.elapsed().as_secs_f64());
        }
        assert!((scores.0 - scores.1).abs() < 1e-9, "prepared {} against the crate's {}", scores.1, scores.0);
        let name = format!("{}x{}", image.width(), image.height());
        let (pb, ps) = (common::median(prep_b), common::median(prep_s));
        println!(
            "| {name} | {mp:.2} | prepare the original | {:.1} ms | - | {:.1} ms | - | {:.2}x |",
            pb * 1e3,
            ps * 1e3,
            ps / pb
        );
        let (mb, mc, mp_) = (common::median(b), common::median(s_crate), common::median(s_prep));
        println!(
            "| {name} | {mp:.2} | per candidate | {:.1} ms | {:.1} ms | {:.1} ms | {:.2}x | {:.2}x |",
            mb * 1e3,
            mc * 1e3,
            mp_ * 1e3,
            mc / mb,
            mp_ / mb
        );
    }
    println!(
        "\nrayon threads: {}; the two paths' SSIMULACRA 2 scores agree to 1e-9 (asserted).",
        rayon::current_num_threads()
    );
}
