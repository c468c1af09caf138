//! VP-JNDnet cost on a ~1 MP photo, flex (CPU) backend: `prepare` (JND map + the original's features,
//! once per image) and `judge` (one candidate), with the pixel JND map alone for comparison.
//!
//! ```sh
//! cargo bench -p jnd-model --bench vpjnd
//! ```
//!
//! The photo is `../shared/data/photos/wikipedia/001.png` (1276x850) when present, else the fixture
//! photo tiled to the same size. Criterion reports pixels per second (Melem/s = MP/s); ms per MP is
//! 1000 / that.

mod common;

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use jnd_model::vpjnd::VpJnd;
use jnd_model::{ColorType, Image, select_device};

fn bench(c: &mut Criterion) {
    let image = common::load();
    let candidate = Image::new(
        image.width(),
        image.height(),
        ColorType::Rgb,
        image.pixels().iter().map(|&v| v & 0xF8).collect(),
    )
    .expect("same size");
    let device = select_device(jnd_model::Accelerator::Cpu).expect("cpu");
    let model = VpJnd::embedded(&device).expect("embedded weights");
    let prepared = model.prepare(&image).expect("prepare");
    let mut group = c.benchmark_group(format!("vpjnd {}x{}", image.width(), image.height()));
    group.throughput(Throughput::Elements(image.pixel_count()));
    group.sample_size(20);
    group.bench_function("pixel_jnd_map", |b| {
        b.iter(|| jnd_model::vpjnd::PIXEL_JND_MODEL.compute(black_box(&image)))
    });
    group.bench_function("prepare", |b| b.iter(|| model.prepare(black_box(&image)).expect("prepare")));
    group.bench_function("judge", |b| {
        b.iter(|| model.judge(black_box(&prepared), black_box(&candidate)).expect("judge"))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
