//! Machine-vision coding evaluation: rate against relative classification accuracy (RCA) on CIFAR-10
//! for the four ways `--target machine` can code: the standard tables, the machine tables
//! ([`crate::machine_tables`]), and either of them with DMV-JND per-block quantisation on top. All
//! four start from mozjpeg's plain encode with trellis quantisation ([`jndenc::codec::adaptive`]), so
//! a zero map is the plain encode and only the tables and the map differ. A fifth, experimental
//! method chooses each block's coarsening by rate and the classifiers' sensitivity (`jndenc::codec::adaptive::rd_scale`).

use std::fmt::Write as _;

use jnd_model::dmvjnd::{ClassifierGradients, Objective, PixelGradients};
use jnd_model::dmvjnd::{DmvJnd, IMAGE_BYTES, PIXELS, SIDE, ycbcr_jnd};
use jnd_model::{ColorType, Image, JndMap};
use jndenc::codec::adaptive::{AdaptiveOptions, encode_adaptive_components, encode_rd};
use jndenc::codec::{Codec, JpegOptions, MozJpeg};
use rayon::prelude::*;

use crate::cifar::CifarSet;
use crate::{Error, Result};

/// The four ways of coding for machines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// The standard (Annex K) tables, one quantiser for every block: what `jndenc -quality` writes.
    Standard,
    /// The machine tables, one quantiser for every block.
    MachineTable,
    /// The machine tables with DMV-JND per-block quantisation on top.
    MachineTableDmv,
    /// The standard tables with DMV-JND per-block quantisation on top.
    StandardDmv,
    /// The machine tables with each block's coarsening chosen by rate and the classifiers' own
    /// sensitivity to that block's coefficients, bounded by the DMV-JND map (`jndenc::codec::adaptive::rd_scale`).
    MachineTableRd,
    /// What `jndenc --target machine -quality Q` writes: [`Method::MachineTableRd`] with the relative
    /// margin's gradient and the multiplier `jndenc::settings::machine_rd_lambda(Q)`, no map bound,
    /// chroma at 4:4:4 from `jndenc::settings::MACHINE_FULL_CHROMA_FROM` up.
    MachineDefault,
}

impl Method {
    /// All six, in table order.
    pub const ALL: [Method; 6] = [
        Method::Standard,
        Method::MachineTable,
        Method::MachineTableDmv,
        Method::StandardDmv,
        Method::MachineTableRd,
        Method::MachineDefault,
    ];

    /// Name for tables and plots.
    pub const fn name(self) -> &'static str {
        match self {
            Method::Standard => "standard table",
            Method::MachineTable => "machine table",
            Method::MachineTableDmv => "machine table + DMV-JND",
            Method::StandardDmv => "standard table + DMV-JND",
            Method::MachineTableRd => "machine table + per-block RD",
            Method::MachineDefault => "--target machine (default)",
        }
    }

    /// Whether the DMV-JND map scales blocks.
    pub const fn uses_map(self) -> bool {
        matches!(self, Method::MachineTableDmv | Method::StandardDmv)
    }

    /// Whether the machine tables are the base.
    pub const fn machine_tables(self) -> bool {
        matches!(
            self,
            Method::MachineTable | Method::MachineTableDmv | Method::MachineTableRd | Method::MachineDefault
        )
    }

    /// The name of the method's strength setting in tables (`x`: the map's factor; `λ`: the RD
    /// method's Lagrange multiplier), or `None` when it has none.
    pub const fn strength(self) -> Option<&'static str> {
        match self {
            Method::MachineTableDmv | Method::StandardDmv => Some("x"),
            Method::MachineTableRd | Method::MachineDefault => Some("λ"),
            Method::Standard | Method::MachineTable => None,
        }
    }

    const fn colour(self) -> &'static str {
        match self {
            Method::Standard => "#444444",
            Method::MachineTable => "#2ca02c",
            Method::MachineTableDmv => "#d62728",
            Method::StandardDmv => "#1f77b4",
            Method::MachineTableRd => "#9467bd",
            Method::MachineDefault => "#ff7f0e",
        }
    }
}

/// One point of a rate-RCA curve.
#[derive(Debug, Clone, PartialEq)]
pub struct RatePoint {
    /// How blocks were quantised.
    pub method: Method,
    /// Base quality.
    pub quality: u8,
    /// Factor the DMV-JND map was multiplied by, or the RD method's Lagrange multiplier (0 for the
    /// methods without a strength).
    pub map_scale: f32,
    /// Mean bits per pixel of the entropy-coded data (scan bytes only: no headers or tables).
    pub bpp: f64,
    /// Mean bits per pixel of the whole files.
    pub file_bpp: f64,
    /// RCA of each classifier against its predictions on the uncompressed images.
    pub rca: [f64; 4],
    /// Top-1 accuracy of each classifier against CIFAR-10's labels.
    pub accuracy: [f64; 4],
    /// Mean PSNR (dB, 8-bit RGB) of the decoded images.
    pub psnr: f64,
}

impl RatePoint {
    /// Mean RCA over the four classifiers.
    pub fn mean_rca(&self) -> f64 {
        self.rca.iter().sum::<f64>() / 4.0
    }

    /// Mean top-1 accuracy over the four classifiers.
    pub fn mean_accuracy(&self) -> f64 {
        self.accuracy.iter().sum::<f64>() / 4.0
    }
}

/// What a sweep encodes: every base quality with each method, the map methods at each of
/// `dmv_scales`.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepPlan {
    /// Base qualities.
    pub qualities: Vec<u8>,
    /// Factors applied to the DMV-JND map (the map's strength).
    pub dmv_scales: Vec<f32>,
    /// The machine tables (luma, chroma): the embedded ones unless evaluating others.
    pub machine_tables: Vec<[u16; 64]>,
    /// Whether the machine-table methods code chroma at 4:4:4 (the standard table stays at 4:2:0).
    pub machine_full_chroma: bool,
    /// Whether [`Method::MachineTableRd`] runs without the DMV-JND map's bound (every block may take
    /// the largest scale), as [`Method::MachineDefault`] always does: what the bound does, measured.
    pub rd_unbounded: bool,
    /// The DMV-JND map's strength as each block's bound in [`Method::MachineDefault`] (0: none, the
    /// encoder's default), as `jndenc --target machine --map-strength F` bounds it.
    pub default_map_strength: f32,
    /// The methods to run (in [`Method::ALL`]'s order; the standard table is always run, as every
    /// saving is against it).
    pub methods: Vec<Method>,
    /// Lagrange multipliers of [`Method::MachineTableRd`] (squared objective per bit, see `jndenc::codec::adaptive::rd_scale`).
    pub rd_lambdas: Vec<f32>,
    /// The classifiers (burnpack bytes) whose gradients [`Method::MachineTableRd`] weighs blocks by.
    pub classifiers: Vec<u8>,
    /// What those gradients are of.
    pub rd_objective: Objective,
}

impl SweepPlan {
    fn runs(&self) -> Vec<(u8, Method, f32)> {
        let mut runs = Vec::new();
        for &quality in &self.qualities {
            for method in Method::ALL {
                if method != Method::Standard && !self.methods.contains(&method) {
                    continue;
                }
                if method == Method::MachineTableRd {
                    runs.extend(self.rd_lambdas.iter().map(|&l| (quality, method, l)));
                } else if method == Method::MachineDefault {
                    runs.push((quality, method, jndenc::settings::machine_rd_lambda(quality)));
                } else if method.uses_map() {
                    runs.extend(self.dmv_scales.iter().map(|&s| (quality, method, s)));
                } else {
                    runs.push((quality, method, 0.0));
                }
            }
        }
        runs
    }
}

/// The plain encoder's options of the evaluation: cjpeg's defaults with the standard tables, 4:2:0,
/// trellis quantisation and optimised Huffman tables, sequential (so scan bytes compare like for
/// like), no metadata; with `machine` tables (scaled by the quality) when given.
pub fn jpeg_options(machine: Option<Vec<[u16; 64]>>) -> JpegOptions {
    JpegOptions {
        progressive: false,
        scale_qtables: machine.is_some(),
        qtables: machine,
        jfif: false,
        keep_icc: false,
        keep_exif: false,
        ..JpegOptions::default()
    }
}

/// What a curve is measured by: agreement with the classifiers' own decisions on the uncompressed
/// images (RCA), or top-1 accuracy against CIFAR-10's labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Mean RCA of the four classifiers.
    Rca,
    /// Mean top-1 accuracy of the four classifiers.
    Accuracy,
}

impl Measure {
    fn of(self, point: &RatePoint) -> f64 {
        match self {
            Measure::Rca => point.mean_rca(),
            Measure::Accuracy => point.mean_accuracy(),
        }
    }
}

pub use jndenc::jpeg_info::entropy_coded_bytes;

fn to_image(planar: &[u8]) -> Result<Image> {
    let mut rgb = Vec::with_capacity(IMAGE_BYTES);
    for i in 0..PIXELS {
        for c in 0..3 {
            rgb.push(planar[c * PIXELS + i]);
        }
    }
    Ok(Image::new(SIDE as u32, SIDE as u32, ColorType::Rgb, rgb)?)
}

/// PSNR capped at 100 dB (identical buffers), so means over images stay finite.
fn psnr(a: &[u8], b: &[u8]) -> f64 {
    jnd_model::metrics::psnr_samples(a, b).min(100.0)
}

/// What the DMV-JND maps of a sweep look like, averaged over its images (8-bit code values).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MapSummary {
    /// Mean DMV-JND luma map (|dY|).
    pub dmv_luma: f64,
    /// Mean DMV-JND chroma map (mean |dCb|, |dCr|).
    pub dmv_chroma: f64,
    /// Spread of the DMV-JND luma map across an image's 8x8 blocks: standard deviation of the block
    /// means over their mean (0: every block the same, so per-block coding is uniform coding).
    pub dmv_block_spread: f64,
}

/// Block spread of one map: standard deviation of its 8x8 block means over their mean.
fn block_spread(map: &JndMap) -> f64 {
    let blocks = map.blocks(8, jnd_model::pixel_jnd::BlockAggregate::Mean);
    let n = blocks.values.len().max(1) as f64;
    let mean = blocks.values.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let variance = blocks.values.iter().map(|&v| (f64::from(v) - mean).powi(2)).sum::<f64>() / n;
    if mean > 0.0 { variance.sqrt() / mean } else { 0.0 }
}

/// The outcome of [`sweep`].
#[derive(Debug, Clone, PartialEq)]
pub struct Sweep {
    /// One point per (quality, method, map strength).
    pub points: Vec<RatePoint>,
    /// The classifiers' top-1 accuracy on the uncompressed images.
    pub uncompressed_accuracy: [f64; 4],
    /// The maps the sweep coded with.
    pub maps: MapSummary,
}

/// Runs the sweep: every image of `set` encoded at every point of `plan`, decoded and classified by
/// `model`'s four classifiers.
pub fn sweep(
    model: &DmvJnd,
    set: &CifarSet,
    plan: &SweepPlan,
    mut progress: impl FnMut(&RatePoint),
) -> Result<Sweep> {
    if set.is_empty() {
        return Err(Error::Insufficient("no images".into()));
    }
    let n = set.len();
    let reference = model.classify(&set.images)?;
    let agreement = |labels: &[Vec<usize>; 4], truth: &dyn Fn(usize, usize) -> usize| -> [f64; 4] {
        std::array::from_fn(|k| (0..n).filter(|&i| labels[k][i] == truth(k, i)).count() as f64 / n as f64)
    };
    let true_label = |_: usize, i: usize| usize::from(set.labels[i]);
    let uncompressed_accuracy = agreement(&reference, &true_label);
    let images: Vec<Image> = (0..n).map(|i| to_image(set.image(i))).collect::<Result<_>>()?;
    // Per image: the DMV-JND of Y and of Cb/Cr (what `jndenc --target machine` codes with).
    let machine: Vec<(JndMap, JndMap)> = {
        let analysis = model.analyse(&set.images)?;
        let jnd = model.jnd(&set.images, &analysis.merged_cam)?;
        (0..n)
            .map(|i| {
                let tile = &jnd[i * IMAGE_BYTES..(i + 1) * IMAGE_BYTES];
                let (luma, chroma): (Vec<f32>, Vec<f32>) =
                    (0..PIXELS).map(|p| ycbcr_jnd(tile[p], tile[PIXELS + p], tile[2 * PIXELS + p])).unzip();
                let map = |values| JndMap::new(SIDE as u32, SIDE as u32, values).map_err(Error::from);
                Ok((map(luma)?, map(chroma)?))
            })
            .collect::<Result<_>>()?
    };
    // Per image: each block's loss gradient per coefficient, for the RD method.
    // Per image: each pixel's gradient of the objective of the RD methods (the default's is the
    // relative margin, as in the encoder).
    let classifiers = ClassifierGradients::from_bytes(&plan.classifiers, model.device())?;
    let gradients_of = |objective: Objective, wanted: bool| -> Result<Vec<PixelGradients>> {
        if !wanted {
            return Ok(Vec::new());
        }
        let all = classifiers.tiles(&set.images, objective, 100)?;
        Ok(all.chunks_exact(IMAGE_BYTES).map(|g| PixelGradients::from_planar_rgb(SIDE, SIDE, g)).collect())
    };
    let gradients = gradients_of(plan.rd_objective, plan.methods.contains(&Method::MachineTableRd))?;
    let default_gradients = if plan.rd_objective == Objective::RelativeMargin && !gradients.is_empty() {
        gradients.clone()
    } else {
        gradients_of(Objective::RelativeMargin, plan.methods.contains(&Method::MachineDefault))?
    };
    let standard = jpeg_options(None);
    let machine_tables = JpegOptions {
        sampling: plan.machine_full_chroma.then(|| vec![(1, 1)]),
        ..jpeg_options(Some(plan.machine_tables.clone()))
    };
    let mut points = Vec::new();
    for (quality, method, map_scale) in plan.runs() {
        // What `jndenc --target machine` writes codes 4:4:4 from its threshold quality up.
        let default_full_chroma = method == Method::MachineDefault
            && quality >= jndenc::settings::MACHINE_FULL_CHROMA_FROM
            && !plan.machine_full_chroma;
        let jpeg = &match method {
            _ if default_full_chroma => {
                JpegOptions { sampling: Some(vec![(1, 1)]), ..machine_tables.clone() }
            }
            _ if method.machine_tables() => machine_tables.clone(),
            _ => standard.clone(),
        };
        let options = AdaptiveOptions::new(jpeg.clone(), quality)?;
        let plain = MozJpeg::new(jpeg.clone());
        let encoded: Vec<(usize, usize, Vec<u8>)> = (0..n)
            .into_par_iter()
            .map(|i| {
                let bytes = if matches!(method, Method::MachineTableRd | Method::MachineDefault) {
                    // machine-rd is bounded by the map unless asked; the encoder's default only with a
                    // map strength.
                    let scaled;
                    let bound = match method {
                        Method::MachineTableRd if !plan.rd_unbounded => Some((&machine[i].0, &machine[i].1)),
                        Method::MachineDefault if plan.default_map_strength > 0.0 => {
                            let s = plan.default_map_strength;
                            scaled = (machine[i].0.scaled(s), machine[i].1.scaled(s));
                            Some((&scaled.0, &scaled.1))
                        }
                        _ => None,
                    };
                    let g =
                        if method == Method::MachineDefault { &default_gradients[i] } else { &gradients[i] };
                    encode_rd(&images[i], g, bound, map_scale, &options)?
                } else if method.uses_map() {
                    let (luma, chroma) = &machine[i];
                    let (luma, chroma) = (luma.scaled(map_scale), chroma.scaled(map_scale));
                    encode_adaptive_components(&images[i], &luma, Some(&chroma), &options)?
                } else {
                    plain.encode(&images[i], quality)?
                }
                .bytes;
                let decoded = jndenc::decode::decode(&bytes, &jndenc::DecodeOptions::default())?;
                Ok((entropy_coded_bytes(&bytes), bytes.len(), crate::cifar::to_planar(&decoded)))
            })
            .collect::<Result<_>>()?;
        let decoded: Vec<u8> = encoded.iter().flat_map(|(_, _, p)| p.iter().copied()).collect();
        let labels = model.classify(&decoded)?;
        let bits = |bytes: usize| bytes as f64 * 8.0 / PIXELS as f64;
        let point = RatePoint {
            method,
            quality,
            map_scale,
            bpp: encoded.iter().map(|(scan, _, _)| bits(*scan)).sum::<f64>() / n as f64,
            file_bpp: encoded.iter().map(|(_, file, _)| bits(*file)).sum::<f64>() / n as f64,
            rca: agreement(&labels, &|k, i| reference[k][i]),
            accuracy: agreement(&labels, &true_label),
            psnr: (0..n)
                .map(|i| psnr(set.image(i), &decoded[i * IMAGE_BYTES..(i + 1) * IMAGE_BYTES]))
                .sum::<f64>()
                / n as f64,
        };
        progress(&point);
        points.push(point);
    }
    let mean_over = |f: &dyn Fn(usize) -> f64| (0..n).map(f).sum::<f64>() / n as f64;
    let map_mean = |map: &JndMap| f64::from(map.stats().mean);
    let maps = MapSummary {
        dmv_luma: mean_over(&|i| map_mean(&machine[i].0)),
        dmv_chroma: mean_over(&|i| map_mean(&machine[i].1)),
        dmv_block_spread: mean_over(&|i| block_spread(&machine[i].0)),
    };
    Ok(Sweep { points, uncompressed_accuracy, maps })
}

/// The operational curve of `method` under `measure`: its points in order of rate, keeping only those
/// that measure higher than every cheaper point — what an encoder free to pick any of the method's
/// settings (base quality, map strength) can reach at each rate.
pub fn frontier(points: &[RatePoint], method: Method, measure: Measure) -> Vec<&RatePoint> {
    let mut curve: Vec<&RatePoint> = points.iter().filter(|p| p.method == method).collect();
    curve.sort_by(|a, b| a.bpp.total_cmp(&b.bpp));
    let mut best = f64::NEG_INFINITY;
    curve.retain(|p| {
        let keep = measure.of(p) > best;
        best = best.max(measure.of(p));
        keep
    });
    curve
}

/// Where a method's operational curve first reaches a level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Crossing<'a> {
    /// Rate (scan bpp) at the level: linear between the two frontier points around the crossing,
    /// which an encoder reaches by coding that share of the images at each of the two settings.
    pub bpp: f64,
    /// The first frontier point at or above the level.
    pub point: &'a RatePoint,
}

/// The lowest rate at which `method`'s operational curve reaches `level` of `measure`, or `None`.
pub fn rate_at<'a>(
    points: &'a [RatePoint],
    method: Method,
    measure: Measure,
    level: f64,
) -> Option<Crossing<'a>> {
    let curve = frontier(points, method, measure);
    let first = *curve.first()?;
    if measure.of(first) >= level {
        return Some(Crossing { bpp: first.bpp, point: first });
    }
    curve.windows(2).find(|w| measure.of(w[0]) < level && measure.of(w[1]) >= level).map(|w| {
        let (low, high) = (measure.of(w[0]), measure.of(w[1]));
        let t = (level - low) / (high - low);
        Crossing { bpp: w[0].bpp + t * (w[1].bpp - w[0].bpp), point: w[1] }
    })
}

fn setting(p: &RatePoint) -> String {
    match p.method.strength() {
        Some(name) => format!("q{} {name}{}", p.quality, p.map_scale),
        None => format!("q{}", p.quality),
    }
}

/// The methods that have points, in [`Method::ALL`]'s order.
fn present(points: &[RatePoint]) -> Vec<Method> {
    Method::ALL.into_iter().filter(|m| points.iter().any(|p| p.method == *m)).collect()
}

/// One method's rate at one level, against the standard table's.
#[derive(Debug, Clone, PartialEq)]
pub struct Saving {
    /// The method.
    pub method: Method,
    /// What the level measures.
    pub measure: Measure,
    /// The level (mean RCA or mean accuracy, 0..1).
    pub level: f64,
    /// The method's rate at the level (scan bpp), if its curve reaches it.
    pub bpp: Option<f64>,
    /// The standard table's rate at the level.
    pub standard_bpp: Option<f64>,
    /// Bits saved against the standard table, in percent.
    pub saving: Option<f64>,
    /// The cheapest setting of the method reaching the level.
    pub setting: Option<String>,
}

/// Every method's [`Saving`] at each level of `measure`.
pub fn savings(points: &[RatePoint], measure: Measure, levels: &[f64]) -> Vec<Saving> {
    let mut out = Vec::new();
    for &level in levels {
        let standard = rate_at(points, Method::Standard, measure, level);
        for method in present(points) {
            let crossing = rate_at(points, method, measure, level);
            let saving = match (standard, crossing) {
                (Some(u), Some(c)) if u.bpp > 0.0 => Some((1.0 - c.bpp / u.bpp) * 100.0),
                _ => None,
            };
            out.push(Saving {
                method,
                measure,
                level,
                bpp: crossing.map(|c| c.bpp),
                standard_bpp: standard.map(|c| c.bpp),
                saving,
                setting: crossing.map(|c| setting(c.point)),
            });
        }
    }
    out
}

fn savings_table(out: &mut String, points: &[RatePoint], measure: Measure, levels: &[(String, f64)]) {
    out.push_str("| level |");
    let methods = present(points);
    for &method in &methods {
        let _ = write!(out, " {} bpp |", method.name());
        if method != Method::Standard {
            out.push_str(" saving | setting |");
        }
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(1 + 3 * methods.len().saturating_sub(1)));
    out.push('\n');
    for (name, level) in levels {
        let _ = write!(out, "| {name} |");
        for s in savings(points, measure, &[*level]) {
            let _ = write!(out, " {} |", s.bpp.map_or("not reached".to_string(), |b| format!("{b:.3}")));
            if s.method != Method::Standard {
                let _ = write!(
                    out,
                    " {} | {} |",
                    s.saving.map_or("n/a".to_string(), |v| format!("**{v:.1} %**")),
                    s.setting.as_deref().unwrap_or("-")
                );
            }
        }
        out.push('\n');
    }
}

/// The accuracy levels of the report: shares of the uncompressed images' mean accuracy.
pub const ACCURACY_SHARES: [f64; 4] = [0.95, 0.98, 0.99, 1.0];

/// The Markdown table of the sweep, the maps' summary and the savings at equal RCA and at equal
/// accuracy.
pub fn table(sweep: &Sweep, rca_levels: &[f64]) -> String {
    let (points, uncompressed_accuracy, maps) = (&sweep.points, sweep.uncompressed_accuracy, sweep.maps);
    let mut out = String::from(
        "Rate (scan bpp) at equal mean RCA on each method's operational curve (the cheapest of its settings \
reaching the level; between two settings, linear), and the saving against the standard table:\n\n",
    );
    let levels: Vec<(String, f64)> =
        rca_levels.iter().map(|&l| (format!("RCA {:.0} %", l * 100.0), l)).collect();
    savings_table(&mut out, points, Measure::Rca, &levels);
    let base = uncompressed_accuracy.iter().sum::<f64>() / 4.0;
    let _ = write!(
        out,
        "\nRate at equal mean top-1 accuracy against CIFAR-10's labels, as a share of the uncompressed \
images' accuracy ({:.2} %; per classifier {:.2} / {:.2} / {:.2} / {:.2} %):\n\n",
        base * 100.0,
        uncompressed_accuracy[0] * 100.0,
        uncompressed_accuracy[1] * 100.0,
        uncompressed_accuracy[2] * 100.0,
        uncompressed_accuracy[3] * 100.0
    );
    let levels: Vec<(String, f64)> = ACCURACY_SHARES
        .iter()
        .map(|&l| (format!("{:.0} % of uncompressed ({:.2} %)", l * 100.0, l * base * 100.0), l * base))
        .collect();
    savings_table(&mut out, points, Measure::Accuracy, &levels);
    let _ = write!(
        out,
        "\nDMV-JND maps (before the strength factor; 8-bit code values, mean over the images): luma {:.2}, \
chroma {:.2}, spread across 8x8 blocks (std / mean of block means) {:.3}.\n\nEvery point:\n\n",
        maps.dmv_luma, maps.dmv_chroma, maps.dmv_block_spread
    );
    out.push_str(
        "| method | quality | map x | bpp (scan) | bpp (file) | PSNR dB | RCA alexnet | vgg | resnet | densenet | RCA mean | accuracy mean |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for p in points {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.3} | {:.3} | {:.2} | {:.2} % | {:.2} % | {:.2} % | {:.2} % | {:.2} % | {:.2} % |",
            p.method.name(),
            p.quality,
            if p.method.strength().is_some() { p.map_scale.to_string() } else { "-".to_string() },
            p.bpp,
            p.file_bpp,
            p.psnr,
            p.rca[0] * 100.0,
            p.rca[1] * 100.0,
            p.rca[2] * 100.0,
            p.rca[3] * 100.0,
            p.mean_rca() * 100.0,
            p.mean_accuracy() * 100.0
        );
    }
    out
}

/// The savings as JSON records (`method`, `measure`, `level`, `rca` for RCA levels, `bpp`,
/// `standard_bpp`, `saving` in percent, `setting`; `null` where a curve does not reach the level),
/// with the run's description.
pub fn json(sweep: &Sweep, rca_levels: &[f64], about: serde_json::Value) -> serde_json::Value {
    let base = sweep.uncompressed_accuracy.iter().sum::<f64>() / 4.0;
    let accuracy_levels: Vec<f64> = ACCURACY_SHARES.iter().map(|s| s * base).collect();
    let records: Vec<serde_json::Value> = savings(&sweep.points, Measure::Rca, rca_levels)
        .into_iter()
        .chain(savings(&sweep.points, Measure::Accuracy, &accuracy_levels))
        .map(|s| {
            serde_json::json!({
                "method": s.method.name(),
                "measure": match s.measure { Measure::Rca => "rca", Measure::Accuracy => "accuracy" },
                "level": s.level,
                "rca": (s.measure == Measure::Rca).then_some(s.level),
                "bpp": s.bpp,
                "standard_bpp": s.standard_bpp,
                "saving": s.saving,
                "setting": s.setting,
            })
        })
        .collect();
    serde_json::json!({ "about": about, "uncompressed_accuracy": base, "records": records })
}

/// A self-contained SVG plot of mean RCA against scan bits per pixel, one line per method.
pub fn svg(points: &[RatePoint]) -> String {
    let (w, h, left, bottom, top, right) = (640.0, 420.0, 60.0, 50.0, 20.0, 20.0);
    let max_bpp = points.iter().map(|p| p.bpp).fold(0.0f64, f64::max).max(0.1) * 1.05;
    let min_rca = points.iter().map(RatePoint::mean_rca).fold(1.0f64, f64::min).min(0.9);
    let x = |bpp: f64| left + bpp / max_bpp * (w - left - right);
    let y = |rca: f64| top + (1.0 - (rca - min_rca) / (1.0 - min_rca)) * (h - top - bottom);
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    );
    let _ = writeln!(
        out,
        "<line x1=\"{left}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>",
        h - bottom,
        w - right,
        h - bottom
    );
    let _ = writeln!(
        out,
        "<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{}\" stroke=\"black\"/>",
        h - bottom
    );
    for i in 0..=5 {
        let bpp = max_bpp * f64::from(i) / 5.0;
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{bpp:.2}</text>",
            x(bpp),
            h - bottom + 16.0
        );
        let rca = min_rca + (1.0 - min_rca) * f64::from(i) / 5.0;
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{:.0} %</text>",
            left - 6.0,
            y(rca) + 4.0,
            rca * 100.0
        );
    }
    let _ = writeln!(
        out,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">bits per pixel (entropy-coded data)</text>",
        (w + left) / 2.0,
        h - 12.0
    );
    let _ = writeln!(
        out,
        "<text x=\"14\" y=\"{}\" transform=\"rotate(-90 14 {})\" text-anchor=\"middle\">mean RCA of 4 classifiers</text>",
        h / 2.0,
        h / 2.0
    );
    for (k, method) in present(points).into_iter().enumerate() {
        let mut scales: Vec<f32> =
            points.iter().filter(|p| p.method == method).map(|p| p.map_scale).collect();
        scales.sort_by(f32::total_cmp);
        scales.dedup();
        for scale in scales {
            let mut curve: Vec<&RatePoint> =
                points.iter().filter(|p| p.method == method && p.map_scale == scale).collect();
            curve.sort_by_key(|p| p.quality);
            let path: Vec<String> =
                curve.iter().map(|p| format!("{:.1},{:.1}", x(p.bpp), y(p.mean_rca()))).collect();
            let _ = writeln!(
                out,
                "<polyline fill=\"none\" stroke=\"{}\" stroke-opacity=\"0.3\" stroke-width=\"1\" points=\"{}\"/>",
                method.colour(),
                path.join(" ")
            );
            for p in &curve {
                let _ = writeln!(
                    out,
                    "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2\" fill=\"{}\" fill-opacity=\"0.5\"><title>{} {}: {:.3} bpp, RCA {:.2} %</title></circle>",
                    x(p.bpp),
                    y(p.mean_rca()),
                    method.colour(),
                    method.name(),
                    setting(p),
                    p.bpp,
                    p.mean_rca() * 100.0
                );
            }
        }
        let path: Vec<String> = frontier(points, method, Measure::Rca)
            .iter()
            .map(|p| format!("{:.1},{:.1}", x(p.bpp), y(p.mean_rca())))
            .collect();
        let _ = writeln!(
            out,
            "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2.5\" points=\"{}\"/>",
            method.colour(),
            path.join(" ")
        );
        let ly = h - bottom - 16.0 * (5.0 - k as f64);
        let _ = writeln!(
            out,
            "<line x1=\"{}\" y1=\"{ly}\" x2=\"{}\" y2=\"{ly}\" stroke=\"{}\" stroke-width=\"2.5\"/><text x=\"{}\" y=\"{}\">{}</text>",
            w - 250.0,
            w - 230.0,
            method.colour(),
            w - 224.0,
            ly + 4.0,
            method.name()
        );
    }
    let _ = writeln!(
        out,
        "<text x=\"{}\" y=\"{}\" font-size=\"10\">thick: operational curve; thin: one strength (map factor or λ)</text>",
        w - 250.0,
        top + 16.0 * 4.0 + 4.0
    );
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn scan_bytes_exclude_headers_and_count_every_scan() {
        // SOI, a 4-byte APP0, SOS with 6-byte header then 5 data bytes (one stuffed FF00 and a RST0),
        // a second SOS with 2 data bytes, EOI.
        let jpeg = [
            0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x01, 0x02, 0xFF, 0xDA, 0x00, 0x06, 1, 2, 3, 4, 0x11, 0xFF,
            0x00, 0xFF, 0xD0, 0xFF, 0xDA, 0x00, 0x03, 9, 0x22, 0x33, 0xFF, 0xD9,
        ];
        assert_eq!(entropy_coded_bytes(&jpeg), 5 + 2);
    }

    fn point(method: Method, bpp: f64, rca: f64) -> RatePoint {
        RatePoint {
            method,
            quality: 1,
            map_scale: 1.0,
            bpp,
            file_bpp: bpp,
            rca: [rca; 4],
            accuracy: [rca / 2.0; 4],
            psnr: 30.0,
        }
    }

    #[test]
    fn rate_at_interpolates_the_crossing() {
        let points = vec![
            point(Method::Standard, 1.0, 0.90),
            point(Method::Standard, 2.0, 0.98),
            point(Method::Standard, 3.0, 1.0),
        ];
        let at = |level| rate_at(&points, Method::Standard, Measure::Rca, level).map(|c| c.bpp);
        assert!((at(0.99).unwrap() - 2.5).abs() < 1e-9);
        assert_eq!(at(0.5), Some(1.0));
        assert!(
            (rate_at(&points, Method::Standard, Measure::Accuracy, 0.495).unwrap().bpp - 2.5).abs() < 1e-9
        );
        assert!(rate_at(&points, Method::MachineTableDmv, Measure::Rca, 0.5).is_none());
    }

    #[test]
    fn the_operational_curve_skips_settings_a_cheaper_one_beats() {
        // The 2.0 bpp point is worse than the 1.5 bpp one, so the crossing of 0.95 runs from 1.5 to 3.0.
        let points = vec![
            point(Method::MachineTableDmv, 1.0, 0.80),
            point(Method::MachineTableDmv, 2.0, 0.85),
            point(Method::MachineTableDmv, 1.5, 0.90),
            point(Method::MachineTableDmv, 3.0, 1.0),
        ];
        let curve: Vec<f64> =
            frontier(&points, Method::MachineTableDmv, Measure::Rca).iter().map(|p| p.bpp).collect();
        assert_eq!(curve, [1.0, 1.5, 3.0]);
        let crossing = rate_at(&points, Method::MachineTableDmv, Measure::Rca, 0.95).unwrap();
        assert!((crossing.bpp - 2.25).abs() < 1e-9);
        assert_eq!(crossing.point.bpp, 3.0);
    }

    #[test]
    fn savings_are_against_the_standard_table_at_the_same_level() {
        let points = vec![
            point(Method::Standard, 1.0, 0.90),
            point(Method::Standard, 2.0, 1.0),
            point(Method::MachineTable, 0.5, 0.90),
            point(Method::MachineTable, 1.0, 1.0),
            point(Method::StandardDmv, 1.0, 0.5),
        ];
        // Only the methods the sweep ran: the standard table, the machine table, the map.
        let ran = 3;
        let all = savings(&points, Measure::Rca, &[0.95]);
        assert_eq!(all.len(), ran);
        let machine = all.iter().find(|s| s.method == Method::MachineTable).unwrap();
        // 0.75 bpp against 1.5 bpp.
        assert!((machine.saving.unwrap() - 50.0).abs() < 1e-9);
        assert_eq!(machine.setting.as_deref(), Some("q1"));
        let map = all.iter().find(|s| s.method == Method::StandardDmv).unwrap();
        assert!(map.bpp.is_none() && map.saving.is_none());
        let json = json(
            &Sweep { points, uncompressed_accuracy: [0.5; 4], maps: MapSummary::default() },
            &[0.95],
            serde_json::json!({}),
        );
        let records = json["records"].as_array().unwrap();
        assert_eq!(records.len(), ran + ACCURACY_SHARES.len() * ran);
        assert_eq!(records[1]["method"], "machine table");
        assert_eq!(records[1]["rca"], 0.95);
    }
}
