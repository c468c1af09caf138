//! One encode pipeline: an [`EncodePlan`], built and validated once from [`Settings`], run on each
//! image. The `jndenc` binary (one file and batch mode) and libjnd both build a plan and call
//! [`EncodePlan::decode`] and [`EncodePlan::encode`]; nothing else decides how an image is encoded.
//!
//! A plan fixes, once:
//! - the codec (mozjpeg, jpegli, the pure-Rust JPEG encoder, or x265 in HEIF; auto mode's default is
//!   [`AUTO_JPEG_ENCODER`], a fixed quality's is mozjpeg), with cjpeg's switches as
//!   [`JpegOptions`] (a `-qtables` file is read before the plan is built, once);
//! - the [`Mode`]: a fixed quality, the JND search (embedded VP-JND model or butteraugli teacher), or
//!   per-block quantisation from a JND map (DMV-JND for machines, pixel-wise for people) on top of
//!   mozjpeg's plain encode with all of its switches ([`AdaptiveOptions`]), and for machines the
//!   machine quantisation tables ([`BaseTables::Machine`]);
//! - the [`MetadataPolicy`] (`--strip`, `-icc`), applied to every decoded image and to a kept input;
//! - the copy-input rule: in auto mode, a JPEG input that no candidate undercuts is kept (its entropy
//!   data untouched, its metadata rewritten to the policy), unless the output must be grey and the
//!   input is not, or must be RGB-coded;
//! - what the report measures (`measure_saving`: the size at the top quality, encoded only when it is
//!   asked for and the search did not already encode it; `verify`: the output's teacher distance).

use std::sync::Mutex;
use std::time::Instant;

use jnd_model::dmvjnd::DmvJnd;
use jnd_model::metrics::ButteraugliRef;
use jnd_model::vpjnd::VpJnd;
use jnd_model::{Accelerator, PixelJndModel};

use crate::auto::{AutoOptions, ModelDecider, Target, TeacherDecider, encode_at_jnd, margin_for};
#[cfg(feature = "mozjpeg")]
use crate::codec::adaptive::{AdaptiveOptions, encode_adaptive_components};
use crate::codec::{Codec, Encoded, HeifOptions, JpegColor, JpegOptions, OutputFormat};
use crate::jpeg_info::{self, MetadataEdit};
use crate::report::{CandidateReport, ImageReport, StageSeconds, saving_percent};
use crate::{DecodeOptions, Error, Image, Result};

/// Default strength of the DMV-JND map under the machine target: 0, the machine tables alone. On
/// CIFAR-10 training images the map on top of the machine tables saved nothing (within 1 % at
/// 80-90 % RCA, and it could not reach 95 % RCA at strength 0.25), and the test-set evaluation agrees
/// (`jnd-model/weights/machine-coding.md`); `--map-strength` turns it on.
pub const MACHINE_MAP_STRENGTH: f32 = 0.0;

/// The base quantisation tables of per-block coding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BaseTables {
    /// What the [`JpegOptions`] say (`-quant-table`, `-qtables`; Annex K by default), as the plain
    /// encode uses them.
    #[default]
    Options,
    /// The machine tables derived from the four classifiers' sensitivity per DCT frequency
    /// ([`crate::codec::machine_qtables`]), scaled by the quality like `-qtables`. The machine
    /// target's default.
    Machine,
}

/// Estimated peak bytes per pixel of an auto-mode encode judged by the VP-JND model (measured: 77 on a 6.3 MP picture, 68 on
/// 1 MP: `jndenc -verbose --outdir`'s "peak memory" less the 23 MB of a tiny picture).
pub const PEAK_BYTES_PER_PIXEL_AUTO: u64 = 80;
/// Estimated peak bytes per pixel of an auto-mode encode judged by the teacher, for pictures that
/// butteraugli compares whole (measured: 442 MB on 1.0 MP; butteraugli's planes, two candidates at once).
pub const PEAK_BYTES_PER_PIXEL_TEACHER: u64 = 440;
/// The same above [`jnd_model::metrics::BUTTERAUGLI_STRIPS_ABOVE`] pixels, where candidates are
/// judged one at a time and butteraugli compares strip by strip: per pixel (the picture, one decoded
/// candidate, the codec's planes), plus per column of the picture (one strip of 384 rows of
/// butteraugli's planes). Measured: 317 MB on a 3000x2000 mosaic, 738 MB on 6000x4000.
pub const PEAK_BYTES_PER_PIXEL_TEACHER_STRIPS: u64 = 16;
/// The per-column part of [`PEAK_BYTES_PER_PIXEL_TEACHER_STRIPS`].
pub const PEAK_BYTES_PER_COLUMN_TEACHER_STRIPS: u64 = 80_000;
/// Estimated peak bytes per pixel of a fixed-quality encode (measured: 14 on 6.3 MP, 18 on 1 MP).
pub const PEAK_BYTES_PER_PIXEL_FIXED: u64 = 20;
/// Estimated peak bytes per pixel of a per-block encode (measured: 62 on 1 MP with the pixel JND map).
pub const PEAK_BYTES_PER_PIXEL_PER_BLOCK: u64 = 64;
/// The part of an encode's peak that does not grow with the picture: code, models, allocator arenas
/// (measured: 12 MB at a fixed quality, 23 MB with the VP-JND model, for a 192x128 picture).
pub const PEAK_FIXED_BYTES: u64 = 32 << 20;

/// The largest `map strength` accepted.
pub const MAX_MAP_STRENGTH: f32 = 64.0;

/// Which JPEG encoder writes JPEG output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JpegEncoder {
    /// mozjpeg (trellis quantisation, progressive, optimised Huffman, Annex K tables): what `-quality`
    /// means, as in cjpeg.
    MozJpeg,
    /// jpegli (butteraugli-distance tables, adaptive quantisation); its quality is jpegli's scale.
    Jpegli,
    /// The pure-Rust `jpeg-encoder` crate.
    Rust,
}

impl JpegEncoder {
    /// The name used by `--codec` and in reports.
    pub fn name(self) -> &'static str {
        match self {
            JpegEncoder::MozJpeg => "mozjpeg",
            JpegEncoder::Jpegli => "jpegli",
            JpegEncoder::Rust => "rust",
        }
    }

    /// The encoder used when none is named: in auto mode the one that needs fewer bytes at equal
    /// quality ([`AUTO_JPEG_ENCODER`], measured), unless a switch asks for what only mozjpeg does
    /// (`-qtables`, `-revert`, `-dct`, ...); otherwise mozjpeg, so `-quality N` means what it means to
    /// cjpeg.
    pub fn default_for(mode: &Mode, jpeg: &JpegOptions) -> Self {
        match mode {
            Mode::Auto { .. } if accepts(AUTO_JPEG_ENCODER, jpeg) => AUTO_JPEG_ENCODER,
            Mode::Auto { .. } | Mode::Fixed(_) | Mode::PerBlock { .. } => JpegEncoder::MozJpeg,
        }
    }
}

/// Whether `encoder` honours every switch in `jpeg`.
fn accepts(encoder: JpegEncoder, jpeg: &JpegOptions) -> bool {
    #[cfg(feature = "jpegli")]
    if encoder == JpegEncoder::Jpegli {
        return crate::codec::Jpegli::new(jpeg.clone()).check().is_ok();
    }
    let _ = (encoder, jpeg);
    true
}

/// Auto mode's JPEG encoder when none is named. jpegli: on the 39 training photos it needs 7-12 %
/// fewer bytes than mozjpeg at equal SSIMULACRA 2 and at equal butteraugli 3-norm, and the teacher's
/// own per-photo choices 9-12 % fewer (`jnd-train compare-codecs`, tables in `docs/codecs.md`).
/// Without the `jpegli` feature, mozjpeg.
#[cfg(feature = "jpegli")]
pub const AUTO_JPEG_ENCODER: JpegEncoder = JpegEncoder::Jpegli;
/// Auto mode's JPEG encoder when none is named (this build has no jpegli).
#[cfg(not(feature = "jpegli"))]
pub const AUTO_JPEG_ENCODER: JpegEncoder = JpegEncoder::MozJpeg;

/// Who judges candidates in the JND search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeciderKind {
    /// The embedded VP-JND network. Not the default: on the validation photos it chooses 6 to 13
    /// quality steps away from the teacher at about the teacher's cost per candidate
    /// (`docs/decision.md`).
    Model,
    /// butteraugli 3-norm against the target, the model's teacher: the default. Started at the
    /// quality prior, it needs a median of 3 to 5 candidates per picture (`docs/decision.md`).
    #[default]
    Teacher,
}

/// Where the per-block JND map comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapKind {
    /// The embedded DMV-JND (machine consumers): a luma and a chroma map.
    Machine,
    /// A pixel-wise JND model (people).
    Human(PixelJndModel),
}

impl MapKind {
    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            MapKind::Machine => "dmv-jnd",
            MapKind::Human(_) => "pixel-jnd",
        }
    }

    /// The map strength used when none is given.
    pub fn default_strength(self) -> f32 {
        match self {
            MapKind::Machine => MACHINE_MAP_STRENGTH,
            MapKind::Human(_) => 1.0,
        }
    }
}

/// How the quality is chosen.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    /// A fixed quality (cjpeg's `-quality`; JPEG 0 means 1, as in libjpeg).
    Fixed(u8),
    /// The lowest quality judged invisible at `target`, found by the block search.
    Auto {
        /// The operating point.
        target: Target,
        /// Who judges.
        decider: DeciderKind,
        /// Lowest quality considered (the format's lowest when `None`).
        min_quality: Option<u8>,
        /// Highest quality considered and the reference of the saving (100 when `None`).
        max_quality: Option<u8>,
        /// Block size of the search (1..=10).
        block: u8,
        /// Start at the codec's quality prior and bracket it (the default), or run the block
        /// search over the whole range.
        prior: bool,
    },
    /// Per-block quantisation from a JND map on top of a base quality (JPEG, mozjpeg only).
    PerBlock {
        /// The map.
        map: MapKind,
        /// Multiplies the map (0..=64); the map's default when `None`.
        strength: Option<f32>,
        /// Base quality (1..=100).
        quality: u8,
        /// The base tables the map scales.
        tables: BaseTables,
    },
}

impl Default for Mode {
    fn default() -> Self {
        Mode::Auto {
            target: Target::default(),
            decider: DeciderKind::default(),
            min_quality: None,
            max_quality: None,
            block: 3,
            prior: true,
        }
    }
}

/// Which metadata an output carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataPolicy {
    /// Keep an ICC profile: the input's, or `icc` when given. False drops both (`--strip icc`).
    pub keep_icc: bool,
    /// Keep the input's EXIF.
    pub keep_exif: bool,
    /// A profile to embed instead of the input's (cjpeg's `-icc FILE`).
    pub icc: Option<Vec<u8>>,
}

impl Default for MetadataPolicy {
    /// Keep both, replace nothing.
    fn default() -> Self {
        Self { keep_icc: true, keep_exif: true, icc: None }
    }
}

/// Everything a plan is built from: plain values, validated by [`EncodePlan::new`].
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Output format.
    pub format: Option<OutputFormat>,
    /// JPEG encoder; `None` picks [`JpegEncoder::default_for`] the mode.
    pub jpeg_encoder: Option<JpegEncoder>,
    /// cjpeg's JPEG switches (their metadata flags are set from `metadata`).
    pub jpeg: JpegOptions,
    /// HEIF options (their metadata flags are set from `metadata`).
    pub heif: HeifOptions,
    /// How the quality is chosen.
    pub mode: Mode,
    /// Metadata of the output.
    pub metadata: MetadataPolicy,
    /// How inputs are decoded (forced format, limits).
    pub decode: DecodeOptions,
    /// Measure the output's teacher distance for the report.
    pub verify: bool,
    /// Cut what the HTML report shows from the picture: the regions butteraugli rates most
    /// different, before and after, and a JND map thumbnail ([`crate::report::Visual`]).
    pub visuals: bool,
    /// Measure the size at the top quality for the report's saving, encoding it if the search did not.
    pub measure_saving: bool,
    /// Write jndenc's marker into JPEG output: a COM segment naming jndenc, its version and the
    /// decision (`jndenc/0.1.0 vp-jnd target=strict quality=57 codec=jpegli distance=3.97`), so a later
    /// run can tell its own output.
    pub marker: bool,
    /// In auto mode, re-encode a JPEG input that carries jndenc's marker instead of keeping it.
    pub force: bool,
}

impl Default for Settings {
    /// JPEG through mozjpeg with cjpeg's defaults, auto quality at the human first JND with the
    /// embedded model, metadata kept, the marker written.
    fn default() -> Self {
        Self {
            format: None,
            jpeg_encoder: None,
            jpeg: JpegOptions::default(),
            heif: HeifOptions::default(),
            mode: Mode::default(),
            metadata: MetadataPolicy::default(),
            decode: DecodeOptions::default(),
            verify: false,
            visuals: false,
            measure_saving: false,
            marker: true,
            force: false,
        }
    }
}

/// The embedded models, loaded on first use on one device and shared by every plan built with the same
/// cache (the C ABI keeps one per handle, so changing a setting does not reload a network).
#[derive(Debug, Default)]
pub struct Models {
    accelerator: Accelerator,
    vpjnd: Mutex<Option<VpJnd>>,
    dmvjnd: Mutex<Option<DmvJnd>>,
}

impl Models {
    /// An empty cache whose models will run on `accelerator`, checked here to be compiled in and
    /// usable on this machine (a one-line error otherwise, before any input is read). The CPU
    /// ([`Models::default`]) always is.
    pub fn on(accelerator: Accelerator) -> Result<Self> {
        jnd_model::select_device(accelerator)?;
        Ok(Self { accelerator, ..Self::default() })
    }

    /// Where the models run.
    pub fn accelerator(&self) -> Accelerator {
        self.accelerator
    }

    /// The VP-JND network.
    pub fn vpjnd(&self) -> Result<VpJnd> {
        let mut slot =
            self.vpjnd.lock().map_err(|_| Error::Parameter("a model cache was poisoned".into()))?;
        if slot.is_none() {
            let device = jnd_model::select_device(self.accelerator)?;
            *slot = Some(VpJnd::embedded(&device).map_err(|e| model_error("VP-JND", e))?);
        }
        slot.clone().ok_or_else(|| Error::Parameter("the VP-JND model is not loaded".into()))
    }

    /// The DMV-JND network and its classifiers.
    pub fn dmvjnd(&self) -> Result<DmvJnd> {
        let mut slot =
            self.dmvjnd.lock().map_err(|_| Error::Parameter("a model cache was poisoned".into()))?;
        if slot.is_none() {
            let device = jnd_model::select_device(self.accelerator)?;
            *slot = Some(DmvJnd::embedded(&device).map_err(|e| model_error("DMV-JND", e))?);
        }
        slot.clone().ok_or_else(|| Error::Parameter("the DMV-JND model is not loaded".into()))
    }
}

fn model_error(name: &str, error: jnd_model::Error) -> Error {
    Error::Model(format!("loading the embedded {name} model: {error}"))
}

/// The per-block strategy's resolved pieces.
#[cfg(feature = "mozjpeg")]
#[derive(Debug, Clone)]
struct PerBlock {
    /// `None` at strength 0: no map is made (nor its model loaded), the plain encode is the output.
    source: Option<MapSource>,
    strength: f32,
    options: AdaptiveOptions,
}

#[cfg(feature = "mozjpeg")]
#[derive(Debug, Clone)]
enum MapSource {
    Machine(Box<DmvJnd>),
    Human(PixelJndModel),
}

#[derive(Debug, Clone)]
enum Strategy {
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
    #[cfg(feature = "mozjpeg")]
    PerBlock {
        plan: Box<PerBlock>,
        quality: u8,
        map: MapKind,
    },
}

/// A validated encode: codec, mode, metadata policy and report requests. See the module docs.
pub struct EncodePlan {
    codec: Box<dyn Codec>,
    strategy: Strategy,
    metadata: MetadataPolicy,
    decode: DecodeOptions,
    jpeg_color: JpegColor,
    verify: bool,
    visuals: bool,
    measure_saving: bool,
    marker: bool,
    force: bool,
}

impl std::fmt::Debug for EncodePlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncodePlan")
            .field("codec", &self.codec.name())
            .field("strategy", &self.strategy_name())
            .field("metadata", &self.metadata)
            .finish_non_exhaustive()
    }
}

/// One encoded image: the output file, the codec's warnings, and what happened.
#[derive(Debug, Clone)]
pub struct Encoding {
    /// The output file.
    pub bytes: Vec<u8>,
    /// Warnings (cjpeg's exit status 2).
    pub warnings: Vec<String>,
    /// The report row (`output` is left empty for the caller to name).
    pub report: ImageReport,
}

fn check_quality_value(what: &str, quality: u8) -> Result<()> {
    if quality > 100 {
        return Err(Error::Parameter(format!("{what} {quality} (need 0..100)")));
    }
    Ok(())
}

impl EncodePlan {
    /// Validates `settings` and builds the plan, loading the models it needs from `models`.
    pub fn new(settings: Settings, models: &Models) -> Result<Self> {
        let Settings {
            format,
            jpeg_encoder,
            mut jpeg,
            mut heif,
            mode,
            metadata,
            decode,
            verify,
            visuals,
            measure_saving,
            marker,
            force,
        } = settings;
        let format = format.unwrap_or(OutputFormat::Jpeg);
        // Metadata is applied to the image once (decode), so codecs keep whatever is left.
        (jpeg.keep_icc, jpeg.keep_exif, heif.keep_icc, heif.keep_exif) = (true, true, true, true);
        if format == OutputFormat::Heif {
            let switches = jpeg.switches_set();
            if !switches.is_empty() {
                return Err(Error::Unsupported(format!(
                    "{} apply to JPEG output only, not HEIF",
                    switches.join(", ")
                )));
            }
            if let Some(named) = jpeg_encoder {
                return Err(Error::Unsupported(format!("--codec {} writes JPEG, not HEIF", named.name())));
            }
        }
        if let Mode::PerBlock { tables: BaseTables::Machine, .. } = mode {
            if jpeg.qtables.is_some() {
                return Err(Error::Parameter(
                    "-qtables and the machine tables are two sets of base tables: give one".into(),
                ));
            }
            jpeg.qtables = Some(crate::codec::machine_qtables()?);
            jpeg.scale_qtables = true;
        }
        let jpeg_encoder = jpeg_encoder.unwrap_or_else(|| JpegEncoder::default_for(&mode, &jpeg));
        let jpeg_color = jpeg.color;
        let codec = build_codec(format, jpeg_encoder, jpeg.clone(), heif)?;
        let strategy = match mode {
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
                        "--min-quality {} is above --max-quality {}",
                        search.min_quality, search.max_quality
                    )));
                }
                if !(1..=10).contains(&block) {
                    return Err(Error::Parameter(format!("search block {block} (need 1..10)")));
                }
                search.block = usize::from(block);
                if prior {
                    search.prior = Some(crate::auto::prior_for(codec.as_ref())?);
                }
                match decider {
                    DeciderKind::Model => Strategy::Model {
                        decider: Box::new(ModelDecider {
                            model: models.vpjnd()?,
                            tau: target.tau(),
                            margin: margin_for(format, codec.name()),
                        }),
                        target,
                        search,
                    },
                    DeciderKind::Teacher => {
                        Strategy::Teacher { decider: TeacherDecider { tau: target.tau() }, target, search }
                    }
                }
            }
            Mode::PerBlock { map, strength, quality, .. } => {
                per_block_strategy(format, jpeg_encoder, &jpeg, map, strength, quality, models)?
            }
        };
        Ok(Self {
            codec,
            strategy,
            metadata,
            decode,
            jpeg_color,
            verify,
            visuals,
            measure_saving,
            marker,
            force,
        })
    }

    /// The output format.
    pub fn format(&self) -> OutputFormat {
        self.codec.format()
    }

    /// The codec that writes outputs.
    pub fn codec(&self) -> &dyn Codec {
        self.codec.as_ref()
    }

    /// How inputs are decoded.
    pub fn decode_options(&self) -> &DecodeOptions {
        &self.decode
    }

    fn strategy_name(&self) -> &'static str {
        match &self.strategy {
            Strategy::Fixed(_) => "fixed",
            Strategy::Model { .. } => "vp-jnd",
            Strategy::Teacher { .. } => "teacher",
            #[cfg(feature = "mozjpeg")]
            Strategy::PerBlock { map, .. } => map.name(),
        }
    }

    fn target_name(&self) -> String {
        match &self.strategy {
            Strategy::Fixed(_) => "fixed".into(),
            Strategy::Model { target, .. } | Strategy::Teacher { target, .. } => target.name(),
            #[cfg(feature = "mozjpeg")]
            Strategy::PerBlock { map: MapKind::Machine, .. } => "machine".into(),
            #[cfg(feature = "mozjpeg")]
            Strategy::PerBlock { map: MapKind::Human(_), .. } => "adaptive-human".into(),
        }
    }

    /// The estimated peak memory of encoding the input `bytes` with this plan, from the header's size:
    /// bytes per pixel measured for each mode (auto: the decoded picture, the decider's prepared
    /// original and the candidates in flight; fixed: the picture and the codec's planes; per-block:
    /// the maps and the coefficient planes) plus a fixed part for the code and models. An input whose
    /// header cannot be read is estimated as 50 pixels per file byte (such a file usually fails to
    /// decode anyway).
    pub fn estimated_peak(&self, bytes: &[u8]) -> u64 {
        let (width, pixels) = crate::decode::dimensions(bytes, &self.decode).map_or_else(
            || (4096, bytes.len() as u64 * 50),
            |(w, h)| (u64::from(w), u64::from(w) * u64::from(h)),
        );
        let per_pixel = match &self.strategy {
            Strategy::Fixed(_) => PEAK_BYTES_PER_PIXEL_FIXED,
            Strategy::Model { .. } => PEAK_BYTES_PER_PIXEL_AUTO,
            Strategy::Teacher { .. } if pixels > jnd_model::metrics::BUTTERAUGLI_STRIPS_ABOVE => {
                return pixels * PEAK_BYTES_PER_PIXEL_TEACHER_STRIPS
                    + width * PEAK_BYTES_PER_COLUMN_TEACHER_STRIPS
                    + PEAK_FIXED_BYTES;
            }
            Strategy::Teacher { .. } => PEAK_BYTES_PER_PIXEL_TEACHER,
            #[cfg(feature = "mozjpeg")]
            Strategy::PerBlock { .. } => PEAK_BYTES_PER_PIXEL_PER_BLOCK,
        };
        pixels * per_pixel + PEAK_FIXED_BYTES
    }

    /// Decodes an input file and applies the metadata policy.
    pub fn decode(&self, bytes: &[u8]) -> Result<Image> {
        let image = crate::decode::decode(bytes, &self.decode)?;
        Ok(self.apply_metadata(image))
    }

    /// `image` with the metadata policy applied (what [`EncodePlan::decode`] does after decoding).
    pub fn apply_metadata(&self, mut image: Image) -> Image {
        if !self.metadata.keep_exif {
            image.metadata.exif = None;
        }
        if !self.metadata.keep_icc {
            image.metadata.icc = None;
        } else if let Some(icc) = &self.metadata.icc {
            image.metadata.icc = Some(icc.clone());
        }
        image
    }

    /// Encodes a decoded image (from [`EncodePlan::decode`], or pixels with the policy applied by
    /// [`EncodePlan::apply_metadata`]). `source` is the input file when there is one: a JPEG input may
    /// then be kept (see the module docs). `input` names it in the report.
    pub fn encode(&self, image: &Image, source: Option<&[u8]>, input: &str) -> Result<Encoding> {
        let started = Instant::now();
        // The input's markers, read once, when the copy-input rule may keep it.
        let keepable = source.and_then(|s| self.keepable_input(s).map(|info| (s, info)));
        if let Some((source, info)) = &keepable
            && !self.force
            && let Some(marker) = self.own_output(info)
        {
            return self.keep_own_output(source, &marker, input, started);
        }
        let codec = self.codec.as_ref();
        // Auto mode judges what is written: a `-grayscale` output against the gray original.
        let gray;
        let judged = if self.jpeg_color == JpegColor::Grayscale
            && codec.format() == OutputFormat::Jpeg
            && image.color() != jnd_model::ColorType::Gray
        {
            gray = image.to_gray();
            &gray
        } else {
            image
        };
        let mut search_path = None;
        let (quality, encoded, probes, saturated, times, top_quality) = match &self.strategy {
            Strategy::Fixed(quality) => {
                (*quality, codec.encode(image, *quality)?, Vec::new(), false, Default::default(), 100)
            }
            Strategy::Model { decider, search, .. } => {
                let r = encode_at_jnd(judged, codec, decider.as_ref(), search)?;
                search_path = Some(r.search);
                (r.quality, r.encoded, r.probes, r.saturated, r.times, search.max_quality)
            }
            Strategy::Teacher { decider, search, .. } => {
                let r = encode_at_jnd(judged, codec, decider, search)?;
                search_path = Some(r.search);
                (r.quality, r.encoded, r.probes, r.saturated, r.times, search.max_quality)
            }
            #[cfg(feature = "mozjpeg")]
            Strategy::PerBlock { plan, quality, .. } => {
                let t = Instant::now();
                let maps =
                    plan.source.as_ref().map(|source| source.maps(image, plan.strength)).transpose()?;
                let prepare = t.elapsed();
                let encoded = match maps {
                    Some((luma, chroma)) => {
                        encode_adaptive_components(image, &luma, chroma.as_ref(), &plan.options)?
                    }
                    None => plan.options.plain(image)?,
                };
                let times =
                    crate::auto::StageTimes { prepare, encode: t.elapsed() - prepare, ..Default::default() };
                (*quality, encoded, Vec::new(), false, times, 100)
            }
        };
        // The marker goes into what is written; sizes compared or reported include it.
        let marked = self.marker && codec.format() == OutputFormat::Jpeg;
        let marker_bytes = |q: u8| if marked { self.marker_text(q).len() + 4 } else { 0 };
        let encoded = if marked {
            let text = self.marker_text(quality);
            Encoded { bytes: jpeg_info::insert_comment(&encoded.bytes, &text)?, warnings: encoded.warnings }
        } else {
            encoded
        };
        let top_bytes = if let Some(p) = probes.iter().find(|p| p.quality == top_quality) {
            p.bytes + marker_bytes(top_quality)
        } else if top_quality == quality
            && matches!(self.strategy, Strategy::Model { .. } | Strategy::Teacher { .. } | Strategy::Fixed(_))
        {
            encoded.bytes.len()
        } else if self.measure_saving {
            codec.encode(image, top_quality)?.bytes.len() + marker_bytes(top_quality)
        } else {
            0
        };
        let kept = match keepable {
            Some((source, _)) => {
                let kept = jpeg_info::rewrite_metadata(source, &self.metadata_edit())?;
                (encoded.bytes.len() >= kept.len()).then_some(kept)
            }
            _ => None,
        };
        let copied_input = kept.is_some();
        let Encoded { bytes, warnings } = match kept {
            Some(bytes) => Encoded { bytes, warnings: Vec::new() },
            None => encoded,
        };
        let decoded = if self.verify || self.visuals {
            Some(self.decoded_output(judged, &bytes, copied_input)?)
        } else {
            None
        };
        let verified_distance = match (&decoded, self.verify) {
            (Some((reference, output)), true) => {
                Some(ButteraugliRef::new(reference)?.compare(output)?.pnorm3)
            }
            _ => None,
        };
        let visual = match (&decoded, self.visuals) {
            (Some((reference, output)), true) => Some(crate::visual::of(reference, output)?),
            _ => None,
        };
        let report = ImageReport {
            input: input.to_string(),
            output: String::new(),
            format: format_name(codec.format()).to_string(),
            target: self.target_name(),
            decider: self.strategy_name().to_string(),
            codec: if copied_input { "input".into() } else { codec.name().to_string() },
            input_bytes: source.map_or(0, <[u8]>::len),
            quality,
            parameter: if copied_input { String::new() } else { codec.parameter(quality) },
            bytes: bytes.len(),
            top_quality,
            top_bytes,
            saving_percent: saving_percent(bytes.len(), top_bytes),
            candidates: probes
                .iter()
                .map(|p| CandidateReport {
                    quality: p.quality,
                    bytes: p.bytes,
                    visible: p.decision.visible,
                    distance: p.decision.distance,
                })
                .collect(),
            search: search_path.map_or(String::new(), |p| p.name().to_string()),
            prior_quality: search_path.and_then(|p| p.guess()).map(|g| g.quality),
            prior_distance: search_path.and_then(|p| p.guess()).map(|g| g.distance),
            copied_input,
            already_encoded: false,
            saturated,
            seconds: StageSeconds {
                prepare: times.prepare.as_secs_f64(),
                encode: times.encode.as_secs_f64(),
                decode: times.decode.as_secs_f64(),
                judge: times.judge.as_secs_f64(),
                total: started.elapsed().as_secs_f64(),
            },
            verified_distance,
            visual,
        };
        Ok(Encoding { bytes, warnings, report })
    }

    /// Decodes `bytes` (read by `decode` from an input file, then encoded) in one call.
    pub fn encode_file(&self, bytes: &[u8], input: &str) -> Result<Encoding> {
        let image = self.decode(bytes)?;
        self.encode(&image, Some(bytes), input)
    }

    /// The metadata policy as an edit of a kept input's markers.
    fn metadata_edit(&self) -> MetadataEdit<'_> {
        MetadataEdit {
            keep_exif: self.metadata.keep_exif,
            keep_icc: self.metadata.keep_icc,
            icc: self.metadata.icc.as_deref().filter(|_| self.metadata.keep_icc),
        }
    }

    /// The marker text of an output at `quality`.
    fn marker_text(&self, quality: u8) -> String {
        let (prefix, version, how) = (jpeg_info::MARKER_PREFIX, crate::VERSION, self.strategy_name());
        let head = match self.strategy {
            Strategy::Fixed(_) => format!("{prefix}{version} {how} quality={quality}"),
            _ => format!("{prefix}{version} {how} target={} quality={quality}", self.target_name()),
        };
        // The codec, and its own parameter where the quality is not cjpeg's (jpegli's distance).
        let parameter = self.codec.parameter(quality);
        if parameter == format!("quality={quality}") {
            format!("{head} codec={}", self.codec.name())
        } else {
            format!("{head} codec={} {parameter}", self.codec.name())
        }
    }

    /// jndenc's marker in `source`, when auto mode would keep it as jndenc's own output: a JPEG
    /// input to JPEG output whose colour satisfies the output's, marked by an auto-mode run at the
    /// same target.
    fn own_output(&self, info: &jpeg_info::JpegInfo) -> Option<String> {
        // Only a decision made for the same target is kept: a stricter (or looser) target searches
        // again (and the copy-input rule still keeps the input if nothing undercuts it).
        let marker = info.jndenc_marker()?;
        let target = format!("target={}", self.target_name());
        marker.split_whitespace().any(|field| field == target).then_some(marker)
    }

    /// Keeps `source`, jndenc's own output, with the metadata policy applied (no encode).
    fn keep_own_output(
        &self,
        source: &[u8],
        marker: &str,
        input: &str,
        started: Instant,
    ) -> Result<Encoding> {
        let bytes = jpeg_info::rewrite_metadata(source, &self.metadata_edit())?;
        let quality = marker
            .split_whitespace()
            .find_map(|field| field.strip_prefix("quality="))
            .and_then(|q| q.parse().ok())
            .unwrap_or(0);
        let report = ImageReport {
            input: input.to_string(),
            output: String::new(),
            format: "jpeg".into(),
            target: self.target_name(),
            decider: self.strategy_name().to_string(),
            codec: "input".into(),
            input_bytes: source.len(),
            quality,
            parameter: String::new(),
            bytes: bytes.len(),
            top_quality: 0,
            top_bytes: 0,
            saving_percent: 0.0,
            candidates: Vec::new(),
            search: String::new(),
            prior_quality: None,
            prior_distance: None,
            copied_input: true,
            already_encoded: true,
            saturated: false,
            seconds: StageSeconds { total: started.elapsed().as_secs_f64(), ..StageSeconds::default() },
            verified_distance: None,
            visual: None,
        };
        Ok(Encoding { bytes, warnings: Vec::new(), report })
    }

    /// The input's markers when the copy-input rule applies to `source`: auto mode, JPEG output, a
    /// JPEG input whose colour satisfies the output's.
    fn keepable_input(&self, source: &[u8]) -> Option<jpeg_info::JpegInfo> {
        if !matches!(self.strategy, Strategy::Model { .. } | Strategy::Teacher { .. })
            || self.codec.format() != OutputFormat::Jpeg
            || !source.starts_with(&[0xFF, 0xD8])
        {
            return None;
        }
        let info = jpeg_info::parse(source).ok()?;
        let colour_fits = match self.jpeg_color {
            JpegColor::Auto => true,
            JpegColor::Grayscale => info.components.len() == 1,
            JpegColor::Rgb => false,
        };
        colour_fits.then_some(info)
    }

    /// The output `bytes` decoded, beside `image` in the same colour type (for `verify` and
    /// `visuals`).
    fn decoded_output(&self, image: &Image, bytes: &[u8], copied_input: bool) -> Result<(Image, Image)> {
        let decoded = if copied_input {
            crate::decode::decode(bytes, &DecodeOptions::default())?
        } else {
            self.codec.decode(bytes)?
        };
        let decoded = if decoded.color() == image.color() { decoded } else { decoded.to_rgb() };
        let reference = if decoded.color() == image.color() { image.clone() } else { image.to_rgb() };
        Ok((reference, decoded))
    }
}

/// The short name of a format in reports.
pub fn format_name(format: OutputFormat) -> &'static str {
    match format {
        OutputFormat::Jpeg => "jpeg",
        OutputFormat::Heif => "heif",
    }
}

fn build_codec(
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

#[cfg(feature = "mozjpeg")]
fn per_block_strategy(
    format: OutputFormat,
    jpeg_encoder: JpegEncoder,
    jpeg: &JpegOptions,
    map: MapKind,
    strength: Option<f32>,
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
    let strength = strength.unwrap_or_else(|| map.default_strength());
    if !strength.is_finite() || !(0.0..=MAX_MAP_STRENGTH).contains(&strength) {
        return Err(Error::Parameter(format!("map strength {strength} (need 0..{MAX_MAP_STRENGTH})")));
    }
    let options = AdaptiveOptions::new(jpeg.clone(), quality.max(1))?;
    let source = match map {
        _ if strength == 0.0 => None,
        MapKind::Machine => Some(MapSource::Machine(Box::new(models.dmvjnd()?))),
        MapKind::Human(model) => Some(MapSource::Human(model)),
    };
    Ok(Strategy::PerBlock {
        plan: Box::new(PerBlock { source, strength, options }),
        quality: quality.max(1),
        map,
    })
}

#[cfg(not(feature = "mozjpeg"))]
fn per_block_strategy(
    _format: OutputFormat,
    _jpeg_encoder: JpegEncoder,
    _jpeg: &JpegOptions,
    _map: MapKind,
    _strength: Option<f32>,
    _quality: u8,
    _models: &Models,
) -> Result<Strategy> {
    Err(Error::Unsupported("per-block quantisation needs jndenc built with mozjpeg".into()))
}

#[cfg(feature = "mozjpeg")]
impl MapSource {
    /// The luma map and, for the DMV-JND, the chroma map, both times `strength`.
    fn maps(&self, image: &Image, strength: f32) -> Result<(jnd_model::JndMap, Option<jnd_model::JndMap>)> {
        Ok(match self {
            MapSource::Machine(model) => {
                let maps = model.machine_jnd_components(image)?;
                (maps.luma.scaled(strength), Some(maps.chroma.scaled(strength)))
            }
            MapSource::Human(model) => (model.compute(image).scaled(strength), None),
        })
    }
}
