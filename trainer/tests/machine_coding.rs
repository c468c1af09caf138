//! The machine-coding sweep end to end on the 20 real CIFAR-10 test images in `fixtures/cifar/`, with
//! the committed weights: real encodes, real decodes, real classifications.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::path::PathBuf;

use jnd_model::dmvjnd::DmvJnd;
use trainer::cifar::{CifarSet, decode_planar};
use trainer::machine_coding::{Measure, Method, SweepPlan, entropy_coded_bytes, rate_at, sweep, table};

fn fixtures() -> CifarSet {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/cifar");
    let mut paths: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    paths.sort();
    let mut set = CifarSet::default();
    for path in paths.iter().filter(|p| p.extension().is_some_and(|e| e == "jpg")) {
        set.images.extend(decode_planar(&std::fs::read(path).unwrap(), "fixture").unwrap());
        set.labels.push(0);
    }
    assert_eq!(set.len(), 20);
    set
}

#[test]
fn the_sweep_codes_real_images_and_reads_savings_off_its_curves() {
    let device = jnd_model::select_device(jnd_model::Accelerator::Cpu).unwrap();
    let model = DmvJnd::embedded(&device).unwrap();
    let set = fixtures();
    let plan = SweepPlan { qualities: vec![10, 75, 95], dmv_scales: vec![0.5, 4.0], pixel_scales: vec![1.0] };
    let mut seen = 0;
    let result = sweep(&model, &set, &plan, |_| seen += 1).unwrap();
    assert_eq!((seen, result.points.len()), (12, 12));
    let point = |method, quality, scale: f32| {
        result
            .points
            .iter()
            .find(|p| p.method == method && p.quality == quality && p.map_scale == scale)
            .unwrap()
    };
    // Uniform JPEG: more bits and closer pictures as quality rises; re-encoding the q75 copies at q75
    // on their own grid returns them almost exactly.
    let (q10, q75, q95) =
        (point(Method::Uniform, 10, 1.0), point(Method::Uniform, 75, 1.0), point(Method::Uniform, 95, 1.0));
    assert!(q10.bpp < q75.bpp && q75.bpp < q95.bpp);
    assert!(q10.psnr < q95.psnr && q75.psnr > 50.0, "q75 PSNR {:.1}", q75.psnr);
    assert!(q95.mean_rca() >= 0.9 && q10.mean_rca() < q95.mean_rca());
    // A stronger DMV-JND map costs fewer bits than a weaker one and than uniform at the same quality.
    for quality in [75, 95] {
        let (weak, strong) = (point(Method::DmvJnd, quality, 0.5), point(Method::DmvJnd, quality, 4.0));
        let uniform = point(Method::Uniform, quality, 1.0);
        assert!(strong.bpp < weak.bpp && weak.bpp <= uniform.bpp, "q{quality}");
        assert!(strong.psnr < uniform.psnr, "q{quality}");
    }
    // Scan bits exclude headers: whole files are larger.
    assert!(result.points.iter().all(|p| p.file_bpp > p.bpp && p.bpp > 0.0));
    // The maps are real: the DMV-JND varies across blocks.
    assert!(result.maps.dmv_luma > 1.0 && result.maps.dmv_block_spread > 0.05, "{:?}", result.maps);
    // Uniform's lowest point is reachable on its own curve; the table names every method.
    let low = q10.mean_rca();
    assert_eq!(rate_at(&result.points, Method::Uniform, Measure::Rca, low).unwrap().bpp, q10.bpp);
    let text = table(&result, &[0.5, 0.9]);
    for name in ["uniform JPEG", "DMV-JND per-block", "pixel-JND per-block", "RCA 90 %", "Maps"] {
        assert!(text.contains(name), "table lacks {name}");
    }
    assert!(entropy_coded_bytes(b"not a jpeg") == 0);
}
