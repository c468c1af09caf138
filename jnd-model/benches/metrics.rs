//! The two metrics auto mode judges with, per candidate, side by side in one run: butteraugli with its
//! reference prepared once and strip by strip, SSIMULACRA 2 as the crate computes it (both sides every
//! time, up to 1 MP), with the original prepared once (`Ssimulacra2Ref`), and strip by strip (both
//! sides every time, memory bounded by the width), on a ~1 MP photo, its 0.4 MP reduction and the
//! photo mirrored 2x2 (4.3 MP). Prints a Markdown table: medians of interleaved runs, and the peak
//! memory of each (what the prepared original holds plus the most one comparison allocates on top,
//! counted by this bench's allocator), in bytes a pixel.
//!
//! ```sh
//! cargo bench -p jnd-model --bench metrics
//! ```
//!
//! The photo is `../shared/data/photos/wikipedia/001.png` (1276x850) when present, else the fixture
//! photo tiled to that size; `JND_BENCH_IMAGE=path` picks another.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use jnd_model::metrics::{ButteraugliRef, Ssimulacra2Ref, ssimulacra2};
use jnd_model::{ColorType, Image};

/// The system allocator, counting the bytes live and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to `System` unchanged; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f`, returning its result and the most bytes live above those live when it started.
fn peak_of<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let out = f();
    (out, PEAK.load(Ordering::Relaxed) - base)
}

/// `image` mirrored into a 2x2 mosaic.
fn mirrored(image: &Image) -> Image {
    let (w, h) = (image.width() as usize, image.height() as usize);
    let p = image.pixels();
    let mut out = Vec::with_capacity(w * h * 12);
    for y in 0..2 * h {
        let sy = if y < h { y } else { 2 * h - 1 - y };
        for x in 0..2 * w {
            let sx = if x < w { x } else { 2 * w - 1 - x };
            out.extend_from_slice(&p[(sy * w + sx) * 3..][..3]);
        }
    }
    Image::new(2 * image.width(), 2 * image.height(), ColorType::Rgb, out).expect("valid")
}

/// Medians of one way of scoring: preparing, comparing, and bytes a pixel held and at the peak.
struct Way {
    prepare: Vec<f64>,
    compare: Vec<f64>,
    held: usize,
    peak: usize,
    score: f64,
}

impl Way {
    fn new() -> Self {
        Way { prepare: Vec::new(), compare: Vec::new(), held: 0, peak: 0, score: 0.0 }
    }

    /// One run: `prepare` the original, then `compare` the candidate with what it made.
    fn run<R>(&mut self, prepare: impl FnOnce() -> R, compare: impl FnOnce(&R) -> f64) {
        let base = LIVE.load(Ordering::Relaxed);
        let t = Instant::now();
        let (prepared, _) = peak_of(prepare);
        self.prepare.push(t.elapsed().as_secs_f64());
        let held = LIVE.load(Ordering::Relaxed).saturating_sub(base);
        let t = Instant::now();
        let (score, extra) = peak_of(|| compare(&prepared));
        self.compare.push(t.elapsed().as_secs_f64());
        self.held = self.held.max(held);
        self.peak = self.peak.max(held + extra);
        self.score = score;
    }
}

fn main() {
    let photo = common::load();
    let ways = [
        "butteraugli prepared",
        "butteraugli strips",
        "SSIMULACRA 2 crate",
        "SSIMULACRA 2 prepared",
        "SSIMULACRA 2 strips",
    ];
    println!("| picture | MP | what | {} |", ways.join(" | "));
    println!("|---|---|---|{}", "---|".repeat(ways.len()));
    for image in [common::resize(&photo, 0.7), photo.clone(), mirrored(&photo)] {
        let distorted = common::candidate(&image);
        let px = image.pixel_count() as f64;
        let mp = px / 1e6;
        let crate_too = mp < 2.0;
        let mut w: Vec<Way> = (0..ways.len()).map(|_| Way::new()).collect();
        for _ in 0..5 {
            w[0].run(
                || ButteraugliRef::with_strips(&image, false).expect("reference"),
                |r| r.compare(&distorted).expect("compare").pnorm3,
            );
            w[1].run(
                || ButteraugliRef::with_strips(&image, true).expect("reference"),
                |r| r.compare(&distorted).expect("compare").pnorm3,
            );
            if crate_too {
                w[2].run(|| (), |()| ssimulacra2(&image, &distorted).expect("crate"));
            }
            w[3].run(
                || Ssimulacra2Ref::with_strips(&image, false).expect("reference"),
                |r| r.compare(&distorted).expect("compare"),
            );
            w[4].run(
                || Ssimulacra2Ref::with_strips(&image, true).expect("reference"),
                |r| r.compare(&distorted).expect("compare"),
            );
        }
        let name = format!("{}x{}", image.width(), image.height());
        let cells = |f: &dyn Fn(&Way) -> String| -> String {
            w.iter()
                .enumerate()
                .map(|(i, way)| if i == 2 && !crate_too { "-".to_string() } else { f(way) })
                .collect::<Vec<_>>()
                .join(" | ")
        };
        println!(
            "| {name} | {mp:.2} | prepare (ms) | {} |",
            cells(&|way| format!("{:.1}", common::median(way.prepare.clone()) * 1e3))
        );
        println!(
            "| {name} | {mp:.2} | per candidate (ms) | {} |",
            cells(&|way| format!("{:.1}", common::median(way.compare.clone()) * 1e3))
        );
        let base = common::median(w[0].compare.clone());
        println!(
            "| {name} | {mp:.2} | per candidate / butteraugli prepared | {} |",
            cells(&|way| format!("{:.2}x", common::median(way.compare.clone()) / base))
        );
        println!(
            "| {name} | {mp:.2} | held (bytes a pixel) | {} |",
            cells(&|way| format!("{:.1}", way.held as f64 / px))
        );
        println!(
            "| {name} | {mp:.2} | peak (bytes a pixel) | {} |",
            cells(&|way| format!("{:.1}", way.peak as f64 / px))
        );
        println!(
            "| {name} | {mp:.2} | score | {} |",
            cells(&|way| if way.score > 10.0 {
                format!("{:.4}", way.score)
            } else {
                format!("{:.5}", way.score)
            })
        );
        assert!(
            (w[0].score - w[1].score).abs() < 1e-6 * w[0].score,
            "butteraugli strips {} against {}",
            w[1].score,
            w[0].score
        );
        if crate_too {
            assert!(
                (w[2].score - w[3].score).abs() < 1e-9,
                "prepared {} against the crate's {}",
                w[3].score,
                w[2].score
            );
        }
    }
    println!(
        "\nrayon threads: {}. Butteraugli's two ways agree to 1e-6 (asserted), SSIMULACRA 2 prepared and the crate's \
         to 1e-9 (asserted); SSIMULACRA 2 strips differ by the whole picture's rounding drift (see the score rows).",
        rayon::current_num_threads()
    );
}
