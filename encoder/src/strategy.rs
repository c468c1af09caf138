//! How a plan encodes: the [`Strategy`] resolved from the settings' [`Mode`] (a fixed quality, the JND
//! search with its decider, or per-block quantisation from a map), the codec it writes with, and what
//! each costs in memory.

use jnd_model::PixelJndModel;
#[cfg(feature = "mozjpeg")]
use jnd_model::dmvjnd::{ClassifierGradients, DmvJnd, Objective};

use crate::auto::{AutoOptions, JudgeDecider, ModelDecider, TeacherDecider, margin_for};
#[cfg(feature = "mozjpeg")]
use crate::codec::adaptive::AdaptiveOptions;
use crate::codec::{Codec, HeifOptions, JpegOptions, OutputFormat};
use crate::models::Models;
use crate::settings::{DeciderKind, JpegEncoder, MAX_MAP_STRENGTH, MapKind, Mode, Named};
use crate::target::Target;
use crate::{Error, Image, Result};

/// Estimated peak bytes per pixel of an auto-mode encode judged by the VP-JND model (measured: 77 on a 6.3 MP picture, 68 on
/// 1 MP: `jndenc -verbose --outdir`'s "peak memory" less the 23 MB of a tiny picture).
pub const PEAK_BYTES_PER_PIXEL_AUTO: u64 = 80;
/// Estimated peak bytes per pixel of an auto-mode encode judged by the teacher, for pictures that
/// butteraugli compares whole (measured: 381-452 MB on 1.0-1.2 MP photos; butteraugli's prepared
/// reference and planes, two candidates at once).
pub const PEAK_BYTES_PER_PIXEL_TEACHER: u64 = 440;
/// The same above [`jnd_model::metrics::BUTTERAUGLI_STRIPS_ABOVE`] pixels, where candidates are
/// judged one at a time and both metrics compare strip by strip: per pixel (the picture, one decoded
/// candidate, the metrics' copies of the original, the codec's planes), plus per column of the
/// picture (one strip of 384 rows of butteraugli's planes). Measured: 325-339 MB on a 3000x2000
/// mosaic, 807-812 MB on 6000x4000 (`JND_BENCH_LARGE=1 cargo bench -p encoder --bench decision`).
pub const PEAK_BYTES_PER_PIXEL_TEACHER_STRIPS: u64 = 18;
/// The per-column part of [`PEAK_BYTES_PER_PIXEL_TEACHER_STRIPS`].
pub const PEAK_BYTES_PER_COLUMN_TEACHER_STRIPS: u64 = 66_000;
/// The same for the whole-picture judge (`--decider vp-jnd`), which also holds the judge's
/// per-block statistics and a candidate's features. Measured: 363 MB on 3000x2000, 900 MB on
/// 6000x4000.
pub const PEAK_BYTES_PER_PIXEL_JUDGE_STRIPS: u64 = 18;
/// The per-column part of [`PEAK_BYTES_PER_PIXEL_JUDGE_STRIPS`].
pub const PEAK_BYTES_PER_COLUMN_JUDGE_STRIPS: u64 = 76_000;
/// Estimated peak bytes per pixel of a fixed-quality encode (measured: 14 on 6.3 MP, 18 on 1 MP).
pub const PEAK_BYTES_PER_PIXEL_FIXED: u64 = 20;
/// Estimated peak bytes per pixel of a per-block encode (measured: 62 on 1 MP with the pixel JND map).
pub const PEAK_BYTES_PER_PIXEL_PER_BLOCK: u64 = 64;
/// Estimated peak bytes per pixel of a per-block encode that runs the DMV-JND map (target machine with
/// a map strength, as the rule or the rate choice's bound): the maps, the classifiers' gradients and
/// the coefficient planes, on top of [`PEAK_FIXED_BYTES_MACHINE_MAP`]. Measured (`/usr/bin/time`,
/// `-quality 90`): 300 MB on a 1.08 MP photo, 490 MB on a 6 MP mosaic.
pub const PEAK_BYTES_PER_PIXEL_MACHINE_MAP: u64 = 40;
/// The fixed part of [`PEAK_BYTES_PER_PIXEL_MACHINE_MAP`]: the networks' activations over a chunk of
/// 500 32x32 tiles (a 0.4 MP picture, one chunk: 221 MB).
pub const PEAK_FIXED_BYTES_MACHINE_MAP: u64 = 260 << 20;
/// The same for target machine's default, the rate choice without the map: the classifiers' gradients
/// in batches of 64 tiles. Measured: 167 MB on 1.08 MP, 331 MB on 6 MP, 156 MB on 0.4 MP.
pub const PEAK_BYTES_PER_PIXEL_MACHINE_RATE: u64 = 36;
/// The fixed part of [`PEAK_BYTES_PER_PIXEL_MACHINE_RATE`].
pub const PEAK_FIXED_BYTES_MACHINE_RATE: u64 = 140 << 20;
/// The part of an encode's peak that does not grow with the picture: code, models, allocator arenas
/// (measured: 12 MB at a fixed quality, 23 MB with the VP-JND model, for a 192x128 picture).
pub const PEAK_FIXED_BYTES: u64 = 32 << 20;

/// The per-block strategy's resolved pieces.
#[cfg(feature = "mozjpeg")]
#[derive(Debug, Clone)]
pub(crate) struct PerBlock {
    pub(crate) rule: BlockRule,
    pub(crate) options: AdaptiveOptions,
}

/// How per-block coding chooses each block's coarsening.
#[cfg(feature = "mozjpeg")]
#[derive(Debug, Clone)]
pub(crate) enum BlockRule {
    /// None: the plain encode is the output (no model is loaded).
    Plain,
    /// From a JND map times a strength (`codec::adaptive::encode_adaptive_components`).
    Map { source: MapSource, strength: f32 },
    /// By rate and the classifiers' sensitivity (`codec::adaptive::encode_rd`), bounded by the DMV-JND
    /// map times a strength when one is given.
    Rate { gradients: Box<ClassifierGradients>, bound: Option<(Box<DmvJnd>, f32)>, lambda: f32 },
}

#[cfg(feature = "mozjpeg")]
impl BlockRule {
    /// Encodes `image` by this rule; also returns the time spent on its maps and gradients.
    pub(crate) fn encode(
        &self,
        image: &Image,
        options: &AdaptiveOptions,
    ) -> Result<(crate::codec::Encoded, std::time::Duration)> {
        use crate::codec::adaptive::{encode_adaptive_components, encode_rd};
        let start = std::time::Instant::now();
        Ok(match self {
            BlockRule::Plain => (options.plain(image)?, std::time::Duration::ZERO),
            BlockRule::Map { source, strength } => {
                let (luma, chroma) = source.maps(image, *strength)?;
                let prepare = start.elapsed();
                (encode_adaptive_components(image, &luma, chroma.as_ref(), options)?, prepare)
            }
            BlockRule::Rate { gradients, bound: None, lambda } => {
                let gradients = gradients.picture(image, Objective::RelativeMargin)?;
                let prepare = start.elapsed();
                (encode_rd(image, &gradients, None, *lambda, options)?, prepare)
            }
            BlockRule::Rate { gradients, bound: Some((model, strength)), lambda } => {
                // One forward pass of the classifiers gives the gradients and the map's CAMs.
                let (gradients, cam) = gradients.picture_with_cam(image, Objective::RelativeMargin)?;
                let maps = model.machine_jnd_components_from_cam(image, &cam)?;
                let (luma, chroma) = (maps.luma.scaled(*strength), maps.chroma.scaled(*strength));
                let prepare = start.elapsed();
                (encode_rd(image, &gradients, Some((&luma, &chroma)), *lambda, options)?, prepare)
            }
        })
    }
}

#[cfg(feature = "mozjpeg")]
#[derive(Debug, Clone)]
pub(crate) enum MapSource {
    Machine(Box<DmvJnd>),
    Human(PixelJndModel),
}

/// What a plan does with each image.
#[derive(Debug, Clone)]
pub(crate) enum Strategy {
    Fixed(u8),
    Model {
        decider: Box<ModelDecider>,
        target: Target,
        search: AutoOptions,
    },
    Teacher {
        decider: TeacherDecider,
        target: Target,
        search: AutoOptions,
    },
    Judge {
        decider: Box<JudgeDecider>,
        target: Target,
        search: AutoOptions,
    },
    #[cfg(feature = "mozjpeg")]
    PerBlock {
        plan: Box<PerBlock>,
        quality: u8,
        map: MapKind,
    },
}

fn check_quality_value(what: &str, quality: u8) -> Result<()> {
    if quality > 100 {
        return Err(Error::Parameter(format!("{what} {quality} (need 0..100)")));
    }
    Ok(())
}

impl Strategy {
    /// The strategy of `mode` for `codec` (built from `jpeg` with `jpeg_encoder`), loading the models
    /// it needs from `models`.
    pub(crate) fn new(
        mode: Mode,
        codec: &dyn Codec,
        jpeg_encoder: JpegEncoder,
        jpeg: &JpegOptions,
        models: &Models,
    ) -> Result<Self> {
        let format = codec.format();
        Ok(match mode {
            Mode::Fixed(quality) => {
                check_quality_value("quality", quality)?;
                let quality = if format == OutputFormat::Jpeg { quality.max(1) } else { quality };
                Strategy::Fixed(quality)
            }
            Mode::Auto { target, decider, min_quality, max_quality, block, prior } => {
                let mut search = AutoOptions::for_format(format);
                if let Some(min) = min_quality {
                    check_quality_value("min quality", min)?;
                    search.min_quality = min;
                }
                if let Some(max) = max_quality {
                    check_quality_value("max quality", max)?;
                    search.max_quality = max;
                }
                if format == OutputFormat::Jpeg {
                    search.min_quality = search.min_quality.max(1);
                    search.max_quality = search.max_quality.max(1);
                }
                if search.min_quality > search.max_quality {
                    return Err(Error::Parameter(format!(
                        "min quality {} is above max quality {}",
                        search.min_quality, search.max_quality
                    )));
                }
                if !(1..=10).contains(&block) {
                    return Err(Error::Parameter(format!("search block {block} (need 1..10)")));
                }
                search.block = usize::from(block);
                if prior {
                    search.prior = Some(crate::auto::prior_for(codec)?);
                }
                match decider {
                    DeciderKind::Model => Strategy::Model {
                        decider: Box::new(ModelDecider {
                            model: models.vpjnd()?,
                            target,
                            margin: margin_for(format, codec.name()),
                        }),
                        target,
                        search,
                    },
                    DeciderKind::VpJnd => Strategy::Judge {
                        decider: Box::new(JudgeDecider {
                            judge: models.judge()?,
                            target,
                            bands: jnd_model::judge::Bands::EMBEDDED,
                        }),
                        target,
                        search,
                    },
                    DeciderKind::Teacher => {
                        Strategy::Teacher { decider: TeacherDecider { target }, target, search }
                    }
                }
            }
            Mode::PerBlock { map, strength, quality, rd_lambda, .. } => {
                let rule = PerBlockRule { map, strength, rd_lambda };
                per_block_strategy(format, jpeg_encoder, jpeg, rule, quality, models)?
            }
        })
    }

    /// The name reports and the marker give the decider: `fixed`, `vp-jnd`, `model`, `teacher`, the map
    /// (`dmv-jnd`, `pixel-jnd`), `machine-rd` (per-block rate choice) or `plain` (per-block coding
    /// that scales no block).
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Strategy::Fixed(_) => "fixed",
            Strategy::Judge { .. } => "vp-jnd",
            Strategy::Model { .. } => "model",
            Strategy::Teacher { .. } => "teacher",
            #[cfg(feature = "mozjpeg")]
            Strategy::PerBlock { plan, map, .. } => match plan.rule {
                BlockRule::Rate { .. } => "machine-rd",
                BlockRule::Map { .. } => map.name(),
                BlockRule::Plain => "plain",
            },
        }
    }

    /// The name reports and the marker give the target.
    pub(crate) fn target_name(&self) -> String {
        match self {
            Strategy::Fixed(_) => "fixed".into(),
            Strategy::Model { target, .. }
            | Strategy::Teacher { target, .. }
            | Strategy::Judge { target, .. } => target.name(),
            #[cfg(feature = "mozjpeg")]
            Strategy::PerBlock { map: MapKind::Machine, .. } => "machine".into(),
            #[cfg(feature = "mozjpeg")]
            Strategy::PerBlock { map: MapKind::Human(_), .. } => "adaptive-human".into(),
        }
    }

    /// The operating point of a search.
    pub(crate) fn target(&self) -> Option<Target> {
        match self {
            Strategy::Model { target, .. }
            | Strategy::Teacher { target, .. }
            | Strategy::Judge { target, .. } => Some(*target),
            _ => None,
        }
    }

    /// Whether it searches (auto mode).
    pub(crate) fn searches(&self) -> bool {
        matches!(self, Strategy::Model { .. } | Strategy::Teacher { .. } | Strategy::Judge { .. })
    }

    /// The estimated peak memory of encoding a picture of `pixels` pixels, `width` wide: bytes per
    /// pixel measured for each mode (auto: the decoded picture, the decider's prepared original and
    /// the candidates in flight; fixed: the picture and the codec's planes; per-block: the maps and
    /// the coefficient planes) plus a fixed part for the code and models.
    pub(crate) fn peak_bytes(&self, pixels: u64, width: u64) -> u64 {
        let per_pixel = match self {
            Strategy::Fixed(_) => PEAK_BYTES_PER_PIXEL_FIXED,
            Strategy::Model { .. } => PEAK_BYTES_PER_PIXEL_AUTO,
            Strategy::Teacher { .. } if pixels > jnd_model::metrics::BUTTERAUGLI_STRIPS_ABOVE => {
                return pixels * PEAK_BYTES_PER_PIXEL_TEACHER_STRIPS
                    + width * PEAK_BYTES_PER_COLUMN_TEACHER_STRIPS
                    + PEAK_FIXED_BYTES;
            }
            Strategy::Judge { .. } if pixels > jnd_model::metrics::BUTTERAUGLI_STRIPS_ABOVE => {
                return pixels * PEAK_BYTES_PER_PIXEL_JUDGE_STRIPS
                    + width * PEAK_BYTES_PER_COLUMN_JUDGE_STRIPS
                    + PEAK_FIXED_BYTES;
            }
            Strategy::Teacher { .. } | Strategy::Judge { .. } => PEAK_BYTES_PER_PIXEL_TEACHER,
            #[cfg(feature = "mozjpeg")]
            Strategy::PerBlock { plan, .. } if matches!(plan.rule, BlockRule::Rate { bound: None, .. }) => {
                return pixels * PEAK_BYTES_PER_PIXEL_MACHINE_RATE + PEAK_FIXED_BYTES_MACHINE_RATE;
            }
            #[cfg(feature = "mozjpeg")]
            Strategy::PerBlock { plan, .. }
                if matches!(
                    plan.rule,
                    BlockRule::Rate { .. } | BlockRule::Map { source: MapSource::Machine(_), .. }
                ) =>
            {
                return pixels * PEAK_BYTES_PER_PIXEL_MACHINE_MAP + PEAK_FIXED_BYTES_MACHINE_MAP;
            }
            #[cfg(feature = "mozjpeg")]
            Strategy::PerBlock { .. } => PEAK_BYTES_PER_PIXEL_PER_BLOCK,
        };
        pixels * per_pixel + PEAK_FIXED_BYTES
    }
}

/// The codec of `format` (for JPEG, `jpeg_encoder`'s) with its options.
pub(crate) fn build_codec(
    format: OutputFormat,
    jpeg_encoder: JpegEncoder,
    jpeg: JpegOptions,
    heif: HeifOptions,
) -> Result<Box<dyn Codec>> {
    match (format, jpeg_encoder) {
        (OutputFormat::Heif, _) => heif_codec(heif),
        (OutputFormat::Jpeg, JpegEncoder::Rust) => Ok(Box::new(crate::codec::RustJpeg::new(jpeg))),
        (OutputFormat::Jpeg, JpegEncoder::MozJpeg) => mozjpeg_codec(jpeg),
        (OutputFormat::Jpeg, JpegEncoder::Jpegli) => jpegli_codec(jpeg),
    }
}

#[cfg(feature = "jpegli")]
fn jpegli_codec(options: JpegOptions) -> Result<Box<dyn Codec>> {
    let codec = crate::codec::Jpegli::new(options);
    codec.check()?;
    Ok(Box::new(codec))
}

#[cfg(not(feature = "jpegli"))]
fn jpegli_codec(_options: JpegOptions) -> Result<Box<dyn Codec>> {
    Err(Error::Unsupported("this jndenc was built without jpegli (the `jpegli` feature)".into()))
}

#[cfg(feature = "mozjpeg")]
fn mozjpeg_codec(options: JpegOptions) -> Result<Box<dyn Codec>> {
    Ok(Box::new(crate::codec::MozJpeg::new(options)))
}

#[cfg(not(feature = "mozjpeg"))]
fn mozjpeg_codec(_options: JpegOptions) -> Result<Box<dyn Codec>> {
    Err(Error::Unsupported("this jndenc was built without mozjpeg; use --codec rust".into()))
}

#[cfg(feature = "heif")]
fn heif_codec(options: HeifOptions) -> Result<Box<dyn Codec>> {
    Ok(Box::new(crate::codec::Heif::new(options)))
}

#[cfg(not(feature = "heif"))]
fn heif_codec(_options: HeifOptions) -> Result<Box<dyn Codec>> {
    Err(Error::Unsupported("this jndenc was built without HEIF support (the `heif` feature)".into()))
}

/// What settings ask of per-block coding.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(not(feature = "mozjpeg"), allow(dead_code))]
struct PerBlockRule {
    map: MapKind,
    strength: Option<f32>,
    rd_lambda: f32,
}

#[cfg(feature = "mozjpeg")]
fn per_block_strategy(
    format: OutputFormat,
    jpeg_encoder: JpegEncoder,
    jpeg: &JpegOptions,
    asked: PerBlockRule,
    quality: u8,
    models: &Models,
) -> Result<Strategy> {
    if format != OutputFormat::Jpeg {
        return Err(Error::Unsupported(
            "per-block quantisation (--target machine, --adaptive) writes JPEG only: libheif exposes no per-block quantiser".into(),
        ));
    }
    if jpeg_encoder != JpegEncoder::MozJpeg {
        return Err(Error::Unsupported(format!(
            "--codec {} with per-block quantisation (it writes its coefficients through mozjpeg)",
            jpeg_encoder.name()
        )));
    }
    let PerBlockRule { map, strength, rd_lambda } = asked;
    let strength = strength.unwrap_or_else(|| map.default_strength());
    if !strength.is_finite() || !(0.0..=MAX_MAP_STRENGTH).contains(&strength) {
        return Err(Error::Parameter(format!("map strength {strength} (need 0..{MAX_MAP_STRENGTH})")));
    }
    if rd_lambda > 0.0 && jpeg.color == crate::codec::JpegColor::Rgb {
        return Err(Error::Unsupported(
            "-rgb with target machine's per-block rate choice (its gradients are of Y, Cb and Cr): \
             give --rd-lambda 0"
                .into(),
        ));
    }
    let options = AdaptiveOptions::new(jpeg.clone(), quality.max(1))?;
    let rule = match map {
        MapKind::Machine if rd_lambda > 0.0 => BlockRule::Rate {
            gradients: Box::new(models.classifier_gradients()?),
            bound: if strength > 0.0 { Some((Box::new(models.dmvjnd()?), strength)) } else { None },
            lambda: rd_lambda,
        },
        _ if strength == 0.0 => BlockRule::Plain,
        MapKind::Machine => {
            BlockRule::Map { source: MapSource::Machine(Box::new(models.dmvjnd()?)), strength }
        }
        MapKind::Human(model) => BlockRule::Map { source: MapSource::Human(model), strength },
    };
    Ok(Strategy::PerBlock { plan: Box::new(PerBlock { rule, options }), quality: quality.max(1), map })
}

#[cfg(not(feature = "mozjpeg"))]
fn per_block_strategy(
    _format: OutputFormat,
    _jpeg_encoder: JpegEncoder,
    _jpeg: &JpegOptions,
    _asked: PerBlockRule,
    _quality: u8,
    _models: &Models,
) -> Result<Strategy> {
    Err(Error::Unsupported("per-block quantisation needs jndenc built with mozjpeg".into()))
}

#[cfg(feature = "mozjpeg")]
impl MapSource {
    /// The luma map and, for the DMV-JND, the chroma map, both times `strength`.
    pub(crate) fn maps(
        &self,
        image: &Image,
        strength: f32,
    ) -> Result<(jnd_model::JndMap, Option<jnd_model::JndMap>)> {
        Ok(match self {
            MapSource::Machine(model) => {
                let maps = model.machine_jnd_components(image)?;
                (maps.luma.scaled(strength), Some(maps.chroma.scaled(strength)))
            }
            MapSource::Human(model) => (model.compute(image).scaled(strength), None),
        })
    }
}
