//! The settings of a plan, and the vocabulary front ends fill them from.
//!
//! - [`Settings`] and its typed parts ([`Mode`], [`MetadataPolicy`], [`JpegEncoder`], ...): what an
//!   [`crate::EncodePlan`] is built from, validated by it;
//! - [`names`]: every option ([`Opt`]) and named value, spelled once, and the docs' table ([`OPTIONS`]);
//! - [`request`]: the one builder from options to settings ([`Request`] -> [`Request::resolve`]), with
//!   every default, conflict and warning. The CLI, libjnd and the Python package translate their syntax
//!   into a `Request` and nothing else.

pub mod names;
pub mod request;

pub use names::{Adaptive, Named, OPTIONS, Opt, OptInfo, Preset, Sampling, SearchKind, Strip};
pub use request::{Request, Resolved, Value, Warning};

use jnd_model::PixelJndModel;

use crate::DecodeOptions;
use crate::codec::{HeifOptions, JpegOptions, OutputFormat};
use crate::target::Target;

/// Default strength of the DMV-JND map under the machine target: 0, no map. On CIFAR-10 training
/// images it saved no bits at equal RCA either way it was tried: as the only per-block rule on top of
/// the machine tables (within 1 % at 80-90 % RCA, and it could not reach 95 % RCA at strength 0.25;
/// the test set agrees, `jnd-model/weights/machine-coding.md`), or as each block's bound under the
/// rate choice ([`machine_rd_lambda`]; at strength 1 it cost 2.0 % of the rate at 95 % RCA and 1.3 %
/// at 98 %, `jnd-model/weights/machine-coding-bound-{on,off}-train.md`). A strength above 0 makes it
/// the bound, or with `rd-lambda 0` the rule.
pub const MACHINE_MAP_STRENGTH: f32 = 0.0;

/// The largest `rd-lambda` accepted.
pub const MAX_RD_LAMBDA: f32 = 1.0;

/// The rate multiplier of the machine target's per-block choice at each base quality (anchors; between
/// two, log-linear; outside, the nearest). Chosen on CIFAR-10 training images, never the test set: the
/// settings (base quality, multiplier) where the rule's operational curve, without a map bound as the
/// default runs it, crosses 80, 85, 90, 95 and 98 % mean RCA (q60 and q70 at 0.001, q80 and q90 at
/// 0.0003, q98 at 0.0001; `jnd-model/weights/machine-coding-rd-free-train.md`, its command in the file).
pub const MACHINE_RD_LAMBDAS: [(u8, f32); 4] = [(70, 1e-3), (80, 3e-4), (90, 3e-4), (98, 1e-4)];

/// The base quality from which the machine target codes chroma at 4:4:4 when no sampling is asked
/// for. Chosen on CIFAR-10 training images (every 25th, moved 4 px; the rate choice bounded by the
/// DMV-JND map, as it then ran): the 4:4:4 curve is the cheaper one above about 97.5 % mean RCA, which 4:2:0 reaches at q96 (4:2:0
/// q96: 3.85 bpp at 97.54 %, 4:4:4 q94: 3.79 bpp at 97.54 %); at 98 % RCA 4:4:4 needs 4.17 bpp against
/// 4:2:0's 4.72, and only 4:4:4 reaches 99 % (`jnd-model/weights/machine-coding-rd-train.md` and
/// `machine-coding-rd-444-train.md`). Below, 4:2:0 is cheaper (95 % RCA: 2.45 against 2.71 bpp).
/// Checked on the rule as it now runs, without the bound, on the same 1,000 training images at both
/// samplings: level around 97.5-98 %, 4:4:4 cheaper at 98 % and alone at 99 %
/// (`machine-coding-rd-free-train.md`, `machine-coding-rd-free-444-train.md`).
pub const MACHINE_FULL_CHROMA_FROM: u8 = 96;

/// The rate multiplier [`MACHINE_RD_LAMBDAS`] gives `quality`.
pub fn machine_rd_lambda(quality: u8) -> f32 {
    let anchors = &MACHINE_RD_LAMBDAS;
    let (first, last) = (anchors[0], anchors[anchors.len() - 1]);
    if quality <= first.0 {
        return first.1;
    }
    if quality >= last.0 {
        return last.1;
    }
    if let Some(&(_, lambda)) = anchors.iter().find(|a| a.0 == quality) {
        return lambda;
    }
    anchors
        .windows(2)
        .find(|w| quality < w[1].0)
        .map(|w| {
            let t = f32::from(quality - w[0].0) / f32::from(w[1].0 - w[0].0);
            let (low, high) = (w[0].1.min(w[1].1), w[0].1.max(w[1].1));
            (w[0].1.ln() * (1.0 - t) + w[1].1.ln() * t).exp().clamp(low, high)
        })
        .unwrap_or(last.1)
}

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
    /// The whole-picture VP-JND judge (`jnd_model::judge`): the network predicts both metrics of
    /// every candidate, and the real metrics measure a bound only where the prediction lies within
    /// the judge's uncertainty band (`auto::JudgeDecider`).
    VpJnd,
    /// The second generation's patch network (VP-JNDnet) for the 3-norm, SSIMULACRA 2 measured. Not
    /// the default: on the validation photos it chooses 6 to 13 quality steps away from the teacher
    /// at about the teacher's cost per candidate (`docs/decision.md`).
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
        /// The machine target's per-block rate multiplier (`jndenc::codec::adaptive::rd_scale`): each
        /// block's coarsening chosen by rate and the classifiers' sensitivity, bounded by the DMV-JND
        /// map; 0 leaves the choice to the map (or, at strength 0, the plain encode on the tables).
        rd_lambda: f32,
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
    /// In auto mode, choose the chroma subsampling (4:2:0 or 4:4:4) per picture; off when the caller
    /// set one (`sampling`, HEIF's chroma, cjpeg's `-sample`) or the output has no chroma.
    pub choose_sampling: bool,
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
            choose_sampling: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_multiplier_is_each_anchor_exactly_and_falls_with_quality_between() {
        for (quality, lambda) in MACHINE_RD_LAMBDAS {
            assert_eq!(machine_rd_lambda(quality), lambda);
        }
        assert_eq!(machine_rd_lambda(1), MACHINE_RD_LAMBDAS[0].1);
        assert_eq!(machine_rd_lambda(100), MACHINE_RD_LAMBDAS[MACHINE_RD_LAMBDAS.len() - 1].1);
        let mut last = f32::INFINITY;
        for quality in 0..=100 {
            let lambda = machine_rd_lambda(quality);
            assert!(lambda > 0.0 && lambda <= last, "q{quality}: {lambda} after {last}");
            assert!(lambda <= MAX_RD_LAMBDA);
            last = lambda;
        }
        // Log-linear between anchors: halfway between 3e-4 (q90) and 1e-4 (q98) is their geometric mean.
        assert!((machine_rd_lambda(94) - (3e-4f32 * 1e-4).sqrt()).abs() < 1e-8);
        assert_eq!(machine_rd_lambda(85), 3e-4);
    }
}
