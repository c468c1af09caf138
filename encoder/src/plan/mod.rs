//! One encode pipeline: an [`EncodePlan`], built and validated once from [`Settings`], run on each
//! image. The `jndenc` binary (one file and batch mode), libjnd and the Python package all build a plan
//! (from a [`crate::settings::Request`]) and call [`EncodePlan::encode_file`] or
//! [`EncodePlan::encode_pixels`]; nothing else decides how an image is encoded.
//!
//! A plan fixes, once:
//! - the codec (mozjpeg, jpegli, the pure-Rust JPEG encoder, or x265 in HEIF; auto mode's default is
//!   [`crate::settings::AUTO_JPEG_ENCODER`], a fixed quality's is mozjpeg), with cjpeg's switches as
//!   [`crate::codec::JpegOptions`];
//! - the [`Strategy`] of the settings' [`Mode`] (`strategy.rs`): a fixed quality, the JND search with
//!   its decider, or per-block quantisation from a JND map;
//! - the [`MetadataPolicy`] (strip, ICC), applied to every decoded image, to pixels handed over, and
//!   to a kept input;
//! - the copy-input rule: in auto mode, a JPEG input that no candidate undercuts is kept (its entropy
//!   data untouched, its metadata rewritten to the policy), unless the output must be grey and the
//!   input is not, or must be RGB-coded;
//! - what the report measures (`measure_saving`: the size at the top quality, encoded only when it is
//!   asked for and the search did not already encode it; `verify`: the output's teacher distance).

use std::time::Instant;

mod keep;
mod measure;
mod sampling;

use crate::auto::{AutoOptions, Probe};
#[cfg(feature = "mozjpeg")]
use crate::codec::{Codec, Encoded, JpegColor, OutputFormat};
use crate::jpeg_info;
use crate::models::Models;
use crate::report::{ImageReport, StageSeconds, saving_percent};
use crate::settings::{BaseTables, JpegEncoder, MetadataPolicy, Mode, Named, Settings};
use crate::strategy::{Strategy, build_codec};
use crate::{DecodeOptions, Error, Image, Result};
use measure::candidate_reports;

/// What the report calls an encode's input and output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Names<'a> {
    /// The input (a path, `-` for standard input, or what the caller calls its pixels).
    pub input: &'a str,
    /// The output (a path, or `-` for bytes handed back to the caller).
    pub output: &'a str,
}

impl Names<'static> {
    /// Pixels handed over in memory, bytes handed back.
    pub fn pixels() -> Self {
        Names { input: "pixels", output: "-" }
    }
}

/// A validated encode: codec, mode, metadata policy and report requests. See the module docs.
pub struct EncodePlan {
    codec: Box<dyn Codec>,
    /// The same codec at 4:4:4 and its quality prior, when auto mode chooses the sampling
    /// (`sampling.rs`).
    at_444: Option<(Box<dyn Codec>, Option<jnd_model::prior::PairPrior>)>,
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
            .field("strategy", &self.strategy.name())
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
    /// The report row, complete (names, sizes, probes, seconds from the call to the output bytes).
    pub report: ImageReport,
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
            choose_sampling,
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
                return Err(Error::Unsupported(format!("codec {} writes JPEG, not HEIF", named.name())));
            }
        }
        if let Mode::PerBlock { tables: BaseTables::Machine, .. } = mode {
            if jpeg.qtables.is_some() {
                return Err(Error::Parameter(
                    "custom tables (-qtables) and the machine tables are two sets of base tables: give one"
                        .into(),
                ));
            }
            jpeg.qtables = Some(crate::codec::machine_qtables()?);
            jpeg.scale_qtables = true;
        }
        let jpeg_encoder = jpeg_encoder.unwrap_or_else(|| JpegEncoder::default_for(&mode, &jpeg));
        let jpeg_color = jpeg.color;
        let at_444 = match mode {
            Mode::Auto { prior, .. } if choose_sampling => {
                let jpeg = crate::codec::JpegOptions { sampling: Some(vec![(1, 1)]), ..jpeg.clone() };
                let heif =
                    crate::codec::HeifOptions { chroma: crate::codec::HeifChroma::C444, ..heif.clone() };
                let codec = build_codec(format, jpeg_encoder, jpeg, heif)?;
                let prior = if prior { Some(crate::auto::prior_for(codec.as_ref())?) } else { None };
                Some((codec, prior))
            }
            _ => None,
        };
        let codec = build_codec(format, jpeg_encoder, jpeg.clone(), heif)?;
        let strategy = Strategy::new(mode, codec.as_ref(), jpeg_encoder, &jpeg, models)?;
        Ok(Self {
            codec,
            at_444,
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
        self.strategy.peak_bytes(pixels, width)
    }

    /// Decodes an input file and applies the metadata policy.
    pub fn decode(&self, bytes: &[u8]) -> Result<Image> {
        let image = crate::decode::decode(bytes, &self.decode)?;
        Ok(self.apply_metadata(image))
    }

    /// `image` with the metadata policy applied (what [`EncodePlan::decode`] does after decoding, and
    /// [`EncodePlan::encode_pixels`] before encoding).
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

    /// Decodes an input file (any format jndenc reads), applies the metadata policy and encodes it; a
    /// JPEG input may be kept (see the module docs). The report's seconds count from this call.
    pub fn encode_file(&self, bytes: &[u8], names: Names<'_>) -> Result<Encoding> {
        let started = Instant::now();
        let image = self.decode(bytes)?;
        self.encode_decoded(&image, Some(bytes), names, started)
    }

    /// Encodes pixels handed over in memory, with the metadata policy applied to what they carry.
    pub fn encode_pixels(&self, image: Image, names: Names<'_>) -> Result<Encoding> {
        let started = Instant::now();
        let image = self.apply_metadata(image);
        self.encode_decoded(&image, None, names, started)
    }

    /// Encodes an image decoded by [`EncodePlan::decode`] (so its metadata policy is applied) from the
    /// input file `source`, when there is one (a JPEG input may then be kept). `started` is when the
    /// caller began this image (before reading it): the report's total counts from there.
    pub fn encode_decoded(
        &self,
        image: &Image,
        source: Option<&[u8]>,
        names: Names<'_>,
        started: Instant,
    ) -> Result<Encoding> {
        self.encode_decoded_with(image, source, names, started, true)
    }

    /// [`EncodePlan::encode_decoded`]; `own_cores`: whether this picture has the machine's cores to
    /// itself (false while batch mode encodes several at once; see [`AutoOptions::side_by_side`]).
    pub(crate) fn encode_decoded_with(
        &self,
        image: &Image,
        source: Option<&[u8]>,
        names: Names<'_>,
        started: Instant,
        own_cores: bool,
    ) -> Result<Encoding> {
        // The input's markers, read once, when the copy-input rule may keep it.
        let keepable = source.and_then(|s| self.keepable_input(s).map(|info| (s, info)));
        if let Some((source, info)) = &keepable
            && !self.force
            && let Some(marker) = self.own_output(info)
        {
            return self.keep_own_output(source, &marker, names, started);
        }
        // Auto mode judges what is written: a `-grayscale` output against the gray original.
        let gray;
        let judged = if self.jpeg_color == JpegColor::Grayscale
            && self.codec.format() == OutputFormat::Jpeg
            && image.color() != jnd_model::ColorType::Gray
        {
            gray = image.to_gray();
            &gray
        } else {
            image
        };
        let mut search_path = None;
        let mut codec = self.codec.as_ref();
        let mut probes: Vec<(Probe, String)> = Vec::new();
        let mut sampling_reason = if self.at_444.is_some() { "default" } else { "given" };
        // The three deciders run the same search (and the same sampling decision).
        let options = |search: &AutoOptions| AutoOptions { side_by_side: own_cores, ..search.clone() };
        let searched = match &self.strategy {
            Strategy::Model { decider, search, .. } => {
                Some((self.search_samplings(judged, decider.as_ref(), &options(search))?, search.max_quality))
            }
            Strategy::Judge { decider, search, .. } => {
                Some((self.search_samplings(judged, decider.as_ref(), &options(search))?, search.max_quality))
            }
            Strategy::Teacher { decider, search, .. } => {
                Some((self.search_samplings(judged, decider, &options(search))?, search.max_quality))
            }
            _ => None,
        };
        let (quality, encoded, saturated, times, top_quality) = match (&self.strategy, searched) {
            (_, Some((s, top_quality))) => {
                (search_path, codec, probes, sampling_reason) =
                    (Some(s.result.search), s.codec, s.probes, s.reason);
                let r = s.result;
                (r.quality, r.encoded, r.saturated, r.times, top_quality)
            }
            (Strategy::Fixed(quality), None) => {
                (*quality, codec.encode(image, *quality)?, false, Default::default(), 100)
            }
            #[cfg(feature = "mozjpeg")]
            (Strategy::PerBlock { plan, quality, .. }, None) => {
                let t = Instant::now();
                let (encoded, prepare) = plan.rule.encode(image, &plan.options)?;
                let times =
                    crate::auto::StageTimes { prepare, encode: t.elapsed() - prepare, ..Default::default() };
                (*quality, encoded, false, times, 100)
            }
            (Strategy::Model { .. } | Strategy::Teacher { .. } | Strategy::Judge { .. }, None) => {
                return Err(Error::Parameter("a searching strategy did not search".into()));
            }
        };
        let chosen_chroma = codec.chroma();
        // The marker goes into what is written; sizes compared or reported include it.
        let marked = self.marker && codec.format() == OutputFormat::Jpeg;
        let marker_bytes = |q: u8| if marked { self.marker_text(codec, q).len() + 4 } else { 0 };
        let encoded = if marked {
            let text = self.marker_text(codec, quality);
            Encoded { bytes: jpeg_info::insert_comment(&encoded.bytes, &text)?, warnings: encoded.warnings }
        } else {
            encoded
        };
        let top_bytes = if let Some((p, _)) =
            probes.iter().find(|(p, chroma)| p.quality == top_quality && *chroma == chosen_chroma)
        {
            p.bytes + marker_bytes(top_quality)
        } else if top_quality == quality
            && (self.strategy.searches() || matches!(self.strategy, Strategy::Fixed(_)))
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
        let (verified_distance, visual) = self.measure_output(codec, judged, &bytes, copied_input)?;
        let report = ImageReport {
            codec: if copied_input { "input".into() } else { codec.name().to_string() },
            quality,
            parameter: if copied_input { String::new() } else { codec.parameter(quality) },
            bytes: bytes.len(),
            top_quality,
            top_bytes,
            saving_percent: saving_percent(bytes.len(), top_bytes),
            candidates: candidate_reports(&probes),
            search: search_path.map_or(String::new(), |p| p.name().to_string()),
            prior_quality: search_path.and_then(|p| p.guess()).map(|g| g.quality),
            prior_distance: search_path.and_then(|p| p.guess()).map(|g| g.distance),
            prior_ssimulacra2: search_path.and_then(|p| p.guess()).and_then(|g| g.ssimulacra2),
            sampling: if copied_input || image.color() == jnd_model::ColorType::Gray {
                String::new()
            } else {
                chosen_chroma.clone()
            },
            sampling_reason: if copied_input { String::new() } else { sampling_reason.to_string() },
            copied_input,
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
            ..self.report_base(names, source)
        };
        Ok(Encoding { bytes, warnings, report })
    }
}
