//! Throughput of the pixel-wise JND models and the metrics on a ~1 MP photo.
//!
//! ```sh
//! cargo bench -p jnd-model --bench pixel_jnd
//! ```
//!
//! The photo is `../shared/data/photos/wikipedia/001.png` (1276x850) when present, else the fixture
//! photo tiled to the same size; `JND_BENCH_IMAGE=path` picks another. Criterion reports throughput
//! in pixels per second (Melem/s = MP/s).

mod common;

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use jnd_model::Image;
use jnd_model::metrics::{ButteraugliRef, psnr, ssim, ssimulacra2};
use jnd_model::pixel_jnd::{wu2017, yang2005};

/// A mildly distorted copy (every pixel nudged), for the metrics.
fn distort(image: &Image) -> Image {
    let pixels = image.pixels().iter().enumerate().map(|(i, &v)| v.saturating_add((i % 7) as u8)).collect();
    Image::new(image.width(), image.height(), image.color(), pixels).expect("same size")
}

fn bench(c: &mut Criterion) {
    let image = common::load();
    let distorted = distort(&image);
    let mut group = c.benchmark_group(format!("{}x{}", image.width(), image.height()));
    group.throughput(Throughput::Elements(image.pixel_count()));
    group.sample_size(20);
    group.bench_function("wu2017", |b| b.iter(|| wu2017(black_box(&image))));
    group.bench_function("yang2005", |b| b.iter(|| yang2005(black_box(&image))));
    group.bench_function("psnr", |b| b.iter(|| psnr(black_box(&image), black_box(&distorted))));
    group.bench_function("ssim", |b| b.iter(|| ssim(black_box(&image), black_box(&distorted))));
    group.sample_size(10);
    let prepared = ButteraugliRef::new(&image).expect("reference");
    group.bench_function("butteraugli (prepared reference)", |b| {
        b.iter(|| prepared.compare(black_box(&distorted)))
    });
    group.bench_function("butteraugli (reference + compare)", |b| {
        b.iter(|| ButteraugliRef::new(black_box(&image)).and_then(|r| r.compare(&distorted)))
    });
    group.bench_function("ssimulacra2", |b| b.iter(|| ssimulacra2(black_box(&image), black_box(&distorted))));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
