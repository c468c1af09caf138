//! Machine-vision coding: rate against classifier agreement on CIFAR-10.

use std::path::{Path, PathBuf};
use std::time::Instant;

use trainer::cifar::Part;

use crate::common::*;

/// Rate against RCA on CIFAR-10 test images: uniform JPEG, DMV-JND and pixel-JND per-block quantisation.
#[derive(Debug, clap::Args)]
pub struct EvalMachineCodingArgs {
    #[command(flatten)]
    pub data: CifarData,
    #[command(flatten)]
    pub weights: DmvWeights,
    /// Evaluate every n-th test image.
    #[arg(long, default_value_t = 5)]
    pub subsample: usize,
    /// Base qualities of the sweep.
    #[arg(long, value_delimiter = ',', default_values_t = [5u8, 10, 15, 20, 30, 40, 50, 60, 65, 70, 75, 80, 85, 90, 95])]
    pub qualities: Vec<u8>,
    /// Move every image this many pixels right and down (edges repeated) before coding, taking the
    /// JPEG copies' 8x8 grid off the encoder's (0..=7; 0: the images as stored).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=7))]
    pub grid_shift: u8,
    /// Strengths of the DMV-JND map: each base quality is coded with the map times each factor.
    #[arg(long, value_delimiter = ',', default_values_t = [0.0625f32, 0.125, 0.25, 0.5, 1.0])]
    pub dmv_scales: Vec<f32>,
    /// Strengths of the pixel-wise JND map.
    #[arg(long, value_delimiter = ',', default_values_t = [1.0f32, 2.0])]
    pub pixel_scales: Vec<f32>,
    /// Markdown table output.
    #[arg(long, default_value = "jnd-model/weights/dmvjnd-machine-coding.md")]
    pub out: PathBuf,
    /// SVG plot output.
    #[arg(long, default_value = "jnd-model/weights/dmvjnd-machine-coding.svg")]
    pub svg: PathBuf,
}

/// `jnd-train eval-machine-coding`.
pub fn run_eval_machine_coding(
    args: EvalMachineCodingArgs,
    device: jnd_model::Accelerator,
) -> anyhow::Result<()> {
    let EvalMachineCodingArgs {
        data,
        weights: DmvWeights { classifiers, net },
        subsample,
        qualities,
        grid_shift,
        dmv_scales,
        pixel_scales,
        out,
        svg,
    } = args;
    let model = load_dmvjnd(classifiers.as_deref(), net.as_deref(), device)?;
    eval_machine_coding(
        &data.cifar,
        &model,
        TestImages { every: subsample.max(1), grid_shift: usize::from(grid_shift) },
        &trainer::machine_coding::SweepPlan { qualities, dmv_scales, pixel_scales },
        &out,
        &svg,
    )
}

/// Which CIFAR-10 test images `eval-machine-coding` codes, and how they are moved.
pub struct TestImages {
    /// Every n-th test image.
    pub every: usize,
    /// Pixels the content moves right and down.
    pub grid_shift: usize,
}

pub fn eval_machine_coding(
    data: &Path,
    model: &jnd_model::dmvjnd::DmvJnd,
    images: TestImages,
    plan: &trainer::machine_coding::SweepPlan,
    out: &Path,
    svg: &Path,
) -> anyhow::Result<()> {
    use trainer::machine_coding::{self, RatePoint};
    if plan.dmv_scales.iter().chain(&plan.pixel_scales).any(|s| !s.is_finite() || *s <= 0.0) {
        anyhow::bail!("map scales must be positive");
    }
    let TestImages { every, grid_shift } = images;
    let set = load_cifar(data, Part::Test)?.every(0, every).shifted(grid_shift);
    let started = Instant::now();
    let result = machine_coding::sweep(model, &set, plan, |p: &RatePoint| {
        eprintln!(
            "q{:>3} {:<20} x{:<8} {:.3} bpp (scan), RCA {:.2} %, accuracy {:.2} %, PSNR {:.2} dB ({:.0} s)",
            p.quality,
            p.method.name(),
            p.map_scale,
            p.bpp,
            p.mean_rca() * 100.0,
            p.mean_accuracy() * 100.0,
            p.psnr,
            started.elapsed().as_secs_f64()
        );
    })?;
    let text = format!(
        "Machine-vision coding on the CIFAR-10 test set (every {}th image: {} images, 32x32, stored by CIFAR's distributors as JPEG q75{}). \
Each image is encoded by the same coefficient path (4:2:0, Annex K base tables at the base quality, optimised Huffman, baseline) with a zero map (uniform), the DMV-JND map times a strength factor (`map x`: {:?}) or the pixel-wise JND map (Wu 2017) times {:?}, decoded, and classified by the four embedded classifiers. RCA: decisions equal to the classifier's own decisions on the uncompressed image; accuracy: decisions equal to CIFAR-10's label. bpp: bits of entropy-coded data per pixel (headers and tables excluded; whole-file bpp alongside). Command: `jnd-train eval-machine-coding` ({:.0} s on this run's machine).\n\n{}",
        every,
        set.len(),
        if grid_shift == 0 {
            String::new()
        } else {
            format!(
                "; every image moved {grid_shift} px right and down, edges repeated, so the q75 block grid no longer lines up with the encoder's"
            )
        },
        plan.dmv_scales,
        plan.pixel_scales,
        started.elapsed().as_secs_f64(),
        machine_coding::table(&result, &[0.80, 0.85, 0.90, 0.95, 0.98, 0.99])
    );
    print!("{text}");
    write_atomic(out, &text)?;
    write_atomic(svg, &machine_coding::svg(&result.points))?;
    eprintln!("wrote {} and {}", out.display(), svg.display());
    Ok(())
}
