//! The machine-coding sweep end to end on the 20 real CIFAR-10 test images in `fixtures/cifar/`, with
//! the committed weights: real encodes, real decodes, real classifications, real classifier gradients.
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
    let set = fixtures().shifted(4);
    let plan = SweepPlan {
        qualities: vec![10, 75, 95],
        dmv_scales: vec![0.5, 4.0],
        machine_tables: jndenc::codec::machine_qtables().unwrap(),
        machine_full_chroma: false,
        rd_unbounded: false,
        default_map_strength: 0.0,
        methods: Method::ALL.to_vec(),
        rd_lambdas: vec![1e-4, 1e-1],
        classifiers: jnd_model::dmvjnd::EMBEDDED_CLASSIFIERS.to_vec(),
        rd_objective: jnd_model::dmvjnd::Objective::RelativeMargin,
    };
    let mut seen = 0;
    let result = sweep(&model, &set, &plan, |_| seen += 1).unwrap();
    // Per quality: standard, machine table, each map method at two strengths, the RD method at two
    // multipliers and the encoder's default.
    assert_eq!((seen, result.points.len()), (27, 27));
    let point = |method, quality, scale: f32| {
        result
            .points
            .iter()
            .find(|p| p.method == method && p.quality == quality && p.map_scale == scale)
            .unwrap()
    };
    // The standard table: more bits and closer pictures as quality rises.
    let (q10, q75, q95) = (
        point(Method::Standard, 10, 0.0),
        point(Method::Standard, 75, 0.0),
        point(Method::Standard, 95, 0.0),
    );
    assert!(q10.bpp < q75.bpp && q75.bpp < q95.bpp);
    assert!(q10.psnr < q75.psnr && q75.psnr < q95.psnr);
    assert!(q95.mean_rca() >= 0.9 && q10.mean_rca() < q95.mean_rca());
    // The machine table differs from the standard one: another rate at the same quality.
    assert_ne!(point(Method::MachineTable, 75, 0.0).bpp, q75.bpp);
    // On either table a stronger DMV-JND map costs fewer bits than a weaker one, and never more than
    // the same table without a map (the map only coarsens blocks of the plain encode).
    for (base, with_map) in
        [(Method::Standard, Method::StandardDmv), (Method::MachineTable, Method::MachineTableDmv)]
    {
        for quality in [75, 95] {
            let (weak, strong) = (point(with_map, quality, 0.5), point(with_map, quality, 4.0));
            let plain = point(base, quality, 0.0);
            assert!(strong.bpp < weak.bpp && weak.bpp <= plain.bpp, "{with_map:?} q{quality}");
            assert!(strong.psnr < plain.psnr, "{with_map:?} q{quality}");
        }
    }
    // The RD choice only coarsens the machine table's blocks, more the more a bit is worth.
    for quality in [75, 95] {
        let (small, large) =
            (point(Method::MachineTableRd, quality, 1e-4), point(Method::MachineTableRd, quality, 1e-1));
        let plain = point(Method::MachineTable, quality, 0.0);
        assert!(large.bpp < small.bpp && small.bpp <= plain.bpp, "RD q{quality}");
        assert!(large.psnr < plain.psnr, "RD q{quality}");
    }
    // The default is the RD method at the encoder's multiplier for the quality. It never costs bits
    // against the machine table alone, and saves some where the table's steps are finer than the map
    // (at q10 they are already coarser: nothing moves).
    for quality in [10, 75, 95] {
        let lambda = jndenc::settings::machine_rd_lambda(quality);
        let (default, table) =
            (point(Method::MachineDefault, quality, lambda), point(Method::MachineTable, quality, 0.0));
        assert!(default.bpp <= table.bpp, "default q{quality}");
        assert!(quality == 10 || default.bpp < table.bpp, "default q{quality}");
    }
    // Scan bits exclude headers: whole files are larger.
    assert!(result.points.iter().all(|p| p.file_bpp > p.bpp && p.bpp > 0.0));
    // The maps are real: the DMV-JND varies across blocks.
    assert!(result.maps.dmv_luma > 1.0 && result.maps.dmv_block_spread > 0.05, "{:?}", result.maps);
    // The standard table's lowest point is reachable on its own curve; the table names every method.
    let low = q10.mean_rca();
    assert_eq!(rate_at(&result.points, Method::Standard, Measure::Rca, low).unwrap().bpp, q10.bpp);
    let text = table(&result, &[0.5, 0.9]);
    for method in Method::ALL {
        assert!(text.contains(method.name()), "table lacks {}", method.name());
    }
    assert!(text.contains("RCA 90 %") && text.contains("DMV-JND maps"));
    assert!(entropy_coded_bytes(b"not a jpeg") == 0);
}

#[test]
fn the_machine_tables_sensitivity_is_measured_on_real_gradients() {
    use trainer::machine_tables::{FIRST_ORDER_EXPONENT, sensitivity, tables};
    let device = jnd_model::select_device(jnd_model::Accelerator::Cpu).unwrap();
    let set = fixtures();
    let classifiers = jnd_model::dmvjnd::EMBEDDED_CLASSIFIERS;
    let subsampled = sensitivity(classifiers, &set, 8, true, &device).unwrap();
    let full = sensitivity(classifiers, &set, 20, false, &device).unwrap();
    assert_eq!(subsampled.images, 20);
    for s in [&subsampled, &full] {
        assert!(s.luma.iter().chain(&s.chroma).all(|v| v.is_finite() && *v > 0.0));
        // The classifiers care more about low luma frequencies than the highest one.
        assert!(s.luma[1] > s.luma[63] && s.luma[8] > s.luma[63], "{:?}", s.luma);
    }
    // Luma is the same however chroma is sampled (batches of 8 or 20 give the same gradients); a 4:2:0
    // chroma sample sums four pixels' gradients, so its sensitivity per coefficient is larger.
    for (a, b) in subsampled.luma.iter().zip(&full.luma) {
        assert!((a - b).abs() <= 1e-3 * b.abs(), "{a} vs {b}");
    }
    assert!(subsampled.chroma[0] > full.chroma[0]);
    let [luma, chroma] = tables(&subsampled, FIRST_ORDER_EXPONENT).unwrap();
    assert!(luma.iter().chain(&chroma).all(|&q| (1..=255).contains(&q)));
}
