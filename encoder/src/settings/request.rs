//! The one builder from a front end's options to the plan's [`Settings`]: a [`Request`] holds the
//! options a caller gave (typed, each in the library's words), [`Request::resolve`] checks their
//! combination once and returns the settings, the device and the [`Warning`]s about options that
//! cannot act in the chosen mode. The CLI, libjnd and the Python package fill a `Request` (typed
//! fields, or [`Request::set`] from a name and a [`Value`]) and do nothing else with options.

use jnd_model::{Accelerator, PixelJndModel};

use crate::codec::{HeifChroma, HeifOptions, JpegOptions, OutputFormat};
use crate::error::OptionError;
use crate::settings::names::{Adaptive, Named, Opt, Preset, Sampling, SearchKind, Strip};
use crate::settings::{
    BaseTables, DeciderKind, JpegEncoder, MACHINE_FULL_CHROMA_FROM, MAX_MAP_STRENGTH, MAX_RD_LAMBDA, MapKind,
    MetadataPolicy, Mode, Settings, machine_rd_lambda,
};
use crate::target::Target;
use crate::{DecodeOptions, Error, InputFormat, Limits, Result};

/// The base quality of per-block coding (`target machine`, `adaptive human`) when none is given, and
/// cjpeg's default quality.
pub const DEFAULT_BASE_QUALITY: u8 = 75;
/// The block search's default block size.
pub const DEFAULT_BLOCK: u8 = 3;

/// An option's value as a dynamically typed front end (Python, a config file) hands it over.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    /// A name or a number written as text.
    Text(&'a str),
    /// A whole number.
    Int(i64),
    /// A number.
    Float(f64),
    /// On or off.
    Bool(bool),
}

/// What a caller asked for: every option of the vocabulary, `None` (or `false`) when not given.
/// Values are checked as they are set ([`Request::set`]) and combinations by [`Request::resolve`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Request {
    /// `format`.
    pub format: Option<OutputFormat>,
    /// `target`.
    pub target: Option<Preset>,
    /// `distance` (checked to lie in [`Target::DISTANCE_RANGE`] by `resolve`).
    pub distance: Option<f64>,
    /// `ssimulacra2` (checked to lie in [`Target::SSIMULACRA2_RANGE`] by `resolve`).
    pub ssimulacra2: Option<f64>,
    /// `quality` (0..=100).
    pub quality: Option<u8>,
    /// `min-quality` (0..=100).
    pub min_quality: Option<u8>,
    /// `max-quality` (0..=100).
    pub max_quality: Option<u8>,
    /// `codec`.
    pub codec: Option<JpegEncoder>,
    /// `sampling`.
    pub sampling: Option<Sampling>,
    /// `strip`.
    pub strip: Option<Strip>,
    /// `decider`.
    pub decider: Option<DeciderKind>,
    /// `device` (`None`: the `JNDENC_DEVICE` environment variable, else the CPU).
    pub device: Option<Accelerator>,
    /// `search`.
    pub search: Option<SearchKind>,
    /// `block` (1..=10).
    pub block: Option<u8>,
    /// `adaptive`.
    pub adaptive: Option<Adaptive>,
    /// `map-strength` (0..=64).
    pub map_strength: Option<f32>,
    /// `rd-lambda` (0..=1).
    pub rd_lambda: Option<f32>,
    /// `pixel-model`.
    pub pixel_model: Option<PixelJndModel>,
    /// `verify`.
    pub verify: bool,
    /// `heif-chroma`.
    pub heif_chroma: Option<Sampling>,
    /// `heif-preset`.
    pub heif_preset: Option<String>,
    /// mozjpeg's base table set (the CLI's `-quant-table N`, 0..=8): naming one keeps the machine
    /// target off the machine tables.
    pub quant_table: Option<u8>,
    /// cjpeg's JPEG switches (the CLI's; library callers leave the defaults). `sampling` may not be
    /// combined with their own sampling factors.
    pub jpeg: JpegOptions,
    /// An ICC profile to embed instead of the input's (cjpeg's `-icc FILE`, read by the caller).
    pub icc: Option<Vec<u8>>,
    /// The memory budget of decoding (cjpeg's `-maxmemory`).
    pub max_memory: Option<u64>,
    /// Read the input as Targa whatever its first bytes (cjpeg's `-targa`).
    pub targa: bool,
    /// Cut the HTML report's pictures ([`Settings::visuals`]).
    pub visuals: bool,
    /// Measure the size at the top quality for the report's saving ([`Settings::measure_saving`]).
    pub measure_saving: bool,
    /// Re-encode an input that carries jndenc's marker ([`Settings::force`]).
    pub force: bool,
}

/// An option given that cannot act in the mode the request resolves to (cjpeg's warnings: the
/// encode goes on; the CLI exits with status 2, Python warns, C returns `JND_WARNING`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The option that has no effect.
    pub option: Opt,
    /// Why, in the library's words (without the option's name).
    pub reason: String,
}

impl Warning {
    /// The warning with the option spelled by `spell` (a front end's syntax).
    pub fn describe(&self, spell: impl Fn(Opt) -> String) -> String {
        format!("{} has no effect: {}", spell(self.option), self.reason)
    }
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe(|opt| opt.name().to_string()))
    }
}

/// A resolved request: what the plan is built from, where its models run, and the warnings.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The plan's settings.
    pub settings: Settings,
    /// Where the models run.
    pub device: Accelerator,
    /// Options that have no effect in this mode.
    pub warnings: Vec<Warning>,
}

fn invalid(option: Opt, reason: impl Into<String>) -> OptionError {
    OptionError { option, other: None, reason: reason.into() }
}

fn conflict(option: Opt, other: Opt, reason: impl Into<String>) -> OptionError {
    OptionError { option, other: Some(other), reason: reason.into() }
}

fn named<T: Named>(value: Value<'_>) -> Result<T, OptionError> {
    match value {
        Value::Text(text) => T::from_name(text)
            .ok_or_else(|| invalid(T::OPTION, format!("unknown value {text:?} (expected {})", T::names()))),
        other => Err(invalid(T::OPTION, format!("expected one of {}, got {}", T::names(), describe(other)))),
    }
}

/// A sampling name; a number is the name written without quotes (`sampling=444`).
fn named_sampling(value: Value<'_>) -> Result<Sampling, OptionError> {
    match value {
        Value::Int(n) => named(Value::Text(&n.to_string())),
        other => named(other),
    }
}

fn describe(value: Value<'_>) -> String {
    match value {
        Value::Text(text) => format!("{text:?}"),
        Value::Int(n) => n.to_string(),
        Value::Float(x) => x.to_string(),
        Value::Bool(b) => b.to_string(),
    }
}

/// A whole number in `range`.
fn whole(option: Opt, value: Value<'_>, range: std::ops::RangeInclusive<i64>) -> Result<i64, OptionError> {
    let n = match value {
        Value::Int(n) => n,
        Value::Text(text) => text.trim().parse().map_err(|_| {
            invalid(option, format!("{text:?} is not a whole number ({}..{})", range.start(), range.end()))
        })?,
        other => {
            return Err(invalid(
                option,
                format!(
                    "expected a whole number {}..{}, got {}",
                    range.start(),
                    range.end(),
                    describe(other)
                ),
            ));
        }
    };
    if range.contains(&n) {
        Ok(n)
    } else {
        Err(invalid(option, format!("{n} is outside {}..{}", range.start(), range.end())))
    }
}

/// A finite number.
fn number(option: Opt, value: Value<'_>) -> Result<f64, OptionError> {
    let x = match value {
        Value::Float(x) => x,
        Value::Int(n) => n as f64,
        Value::Text(text) => {
            text.trim().parse().map_err(|_| invalid(option, format!("{text:?} is not a number")))?
        }
        Value::Bool(b) => return Err(invalid(option, format!("expected a number, got {b}"))),
    };
    if x.is_finite() { Ok(x) } else { Err(invalid(option, format!("{x} is not a finite number"))) }
}

fn flag(option: Opt, value: Value<'_>) -> Result<bool, OptionError> {
    match value {
        Value::Bool(b) => Ok(b),
        Value::Int(0) => Ok(false),
        Value::Int(1) => Ok(true),
        Value::Text("on" | "true" | "yes") => Ok(true),
        Value::Text("off" | "false" | "no") => Ok(false),
        other => Err(invalid(option, format!("expected on or off, got {}", describe(other)))),
    }
}

/// A `distance` checked against [`Target::DISTANCE_RANGE`].
pub fn check_distance(d: f64) -> Result<f64, OptionError> {
    let range = Target::DISTANCE_RANGE;
    if range.contains(&d) {
        Ok(d)
    } else {
        Err(invalid(
            Opt::Distance,
            format!(
                "{d} is outside {}..{} (butteraugli 3-norm; 1.0 is visually-lossless, 2.295 human-first-jnd)",
                range.start(),
                range.end()
            ),
        ))
    }
}

/// A `ssimulacra2` floor checked against [`Target::SSIMULACRA2_RANGE`] (and for NaN).
pub fn check_ssimulacra2(s: f64) -> Result<f64, OptionError> {
    let range = Target::SSIMULACRA2_RANGE;
    if range.contains(&s) {
        Ok(s)
    } else {
        Err(invalid(
            Opt::Ssimulacra2,
            format!("{s} is outside {}..{} (SSIMULACRA 2; 100 is identical)", range.start(), range.end()),
        ))
    }
}

/// A `map-strength` checked against `0..=`[`MAX_MAP_STRENGTH`].
pub fn check_map_strength(strength: f32) -> Result<f32, OptionError> {
    if strength.is_finite() && (0.0..=MAX_MAP_STRENGTH).contains(&strength) {
        Ok(strength)
    } else {
        Err(invalid(Opt::MapStrength, format!("{strength} is outside 0..{MAX_MAP_STRENGTH}")))
    }
}

/// An `rd-lambda` checked against `0..=`[`MAX_RD_LAMBDA`].
pub fn check_rd_lambda(lambda: f32) -> Result<f32, OptionError> {
    if lambda.is_finite() && (0.0..=MAX_RD_LAMBDA).contains(&lambda) {
        Ok(lambda)
    } else {
        Err(invalid(Opt::RdLambda, format!("{lambda} is outside 0..{MAX_RD_LAMBDA}")))
    }
}

impl Request {
    /// Sets `option` from a dynamically typed value, checking the value (not yet its combination
    /// with others). Names are the vocabulary's ([`Named`]); numbers are range-checked.
    pub fn set(&mut self, option: Opt, value: Value<'_>) -> Result<(), OptionError> {
        match option {
            Opt::Format => self.format = Some(named(value)?),
            Opt::Target => self.target = Some(named(value)?),
            Opt::Distance => self.distance = Some(check_distance(number(option, value)?)?),
            Opt::Ssimulacra2 => self.ssimulacra2 = Some(check_ssimulacra2(number(option, value)?)?),
            Opt::Quality => self.quality = Some(whole(option, value, 0..=100)? as u8),
            Opt::MinQuality => self.min_quality = Some(whole(option, value, 0..=100)? as u8),
            Opt::MaxQuality => self.max_quality = Some(whole(option, value, 0..=100)? as u8),
            Opt::Codec => self.codec = Some(named(value)?),
            Opt::Sampling => self.sampling = Some(named_sampling(value)?),
            Opt::Strip => self.strip = Some(named(value)?),
            Opt::Decider => self.decider = Some(named(value)?),
            Opt::Device => self.device = Some(named(value)?),
            Opt::Search => self.search = Some(named(value)?),
            Opt::Block => self.block = Some(whole(option, value, 1..=10)? as u8),
            Opt::Adaptive => self.adaptive = Some(named(value)?),
            Opt::MapStrength => self.map_strength = Some(check_map_strength(number(option, value)? as f32)?),
            Opt::RdLambda => self.rd_lambda = Some(check_rd_lambda(number(option, value)? as f32)?),
            Opt::PixelModel => self.pixel_model = Some(named(value)?),
            Opt::Verify => self.verify = flag(option, value)?,
            Opt::HeifChroma => self.heif_chroma = Some(named_sampling(value)?),
            Opt::HeifPreset => match value {
                Value::Text(text) if !text.is_empty() => self.heif_preset = Some(text.to_string()),
                other => {
                    return Err(invalid(option, format!("expected a preset name, got {}", describe(other))));
                }
            },
        }
        Ok(())
    }

    /// Forgets `option` (back to its default).
    pub fn clear(&mut self, option: Opt) {
        match option {
            Opt::Format => self.format = None,
            Opt::Target => self.target = None,
            Opt::Distance => self.distance = None,
            Opt::Ssimulacra2 => self.ssimulacra2 = None,
            Opt::Quality => self.quality = None,
            Opt::MinQuality => self.min_quality = None,
            Opt::MaxQuality => self.max_quality = None,
            Opt::Codec => self.codec = None,
            Opt::Sampling => self.sampling = None,
            Opt::Strip => self.strip = None,
            Opt::Decider => self.decider = None,
            Opt::Device => self.device = None,
            Opt::Search => self.search = None,
            Opt::Block => self.block = None,
            Opt::Adaptive => self.adaptive = None,
            Opt::MapStrength => self.map_strength = None,
            Opt::RdLambda => self.rd_lambda = None,
            Opt::PixelModel => self.pixel_model = None,
            Opt::Verify => self.verify = false,
            Opt::HeifChroma => self.heif_chroma = None,
            Opt::HeifPreset => self.heif_preset = None,
        }
    }

    /// The options given, for messages and tests.
    pub fn given(&self) -> Vec<Opt> {
        let set = [
            (Opt::Format, self.format.is_some()),
            (Opt::Target, self.target.is_some()),
            (Opt::Distance, self.distance.is_some()),
            (Opt::Ssimulacra2, self.ssimulacra2.is_some()),
            (Opt::Quality, self.quality.is_some()),
            (Opt::MinQuality, self.min_quality.is_some()),
            (Opt::MaxQuality, self.max_quality.is_some()),
            (Opt::Codec, self.codec.is_some()),
            (Opt::Sampling, self.sampling.is_some()),
            (Opt::Strip, self.strip.is_some()),
            (Opt::Decider, self.decider.is_some()),
            (Opt::Device, self.device.is_some()),
            (Opt::Search, self.search.is_some()),
            (Opt::Block, self.block.is_some()),
            (Opt::Adaptive, self.adaptive.is_some()),
            (Opt::MapStrength, self.map_strength.is_some()),
            (Opt::RdLambda, self.rd_lambda.is_some()),
            (Opt::PixelModel, self.pixel_model.is_some()),
            (Opt::Verify, self.verify),
            (Opt::HeifChroma, self.heif_chroma.is_some()),
            (Opt::HeifPreset, self.heif_preset.is_some()),
        ];
        set.into_iter().filter_map(|(opt, given)| given.then_some(opt)).collect()
    }

    /// The device: `device`, else the `JNDENC_DEVICE` environment variable, else the CPU.
    pub fn accelerator(&self) -> Result<Accelerator> {
        match self.device {
            Some(device) => Ok(device),
            None => Ok(Accelerator::from_env()?.unwrap_or_default()),
        }
    }

    /// Checks the request as a whole and builds the plan's settings; see the module docs.
    pub fn resolve(&self) -> Result<Resolved> {
        let mut warnings = Vec::new();
        let mut warn = |option: Opt, reason: &str| warnings.push(Warning { option, reason: reason.into() });
        let format = self.format.unwrap_or(OutputFormat::Jpeg);
        if let Some(d) = self.distance {
            check_distance(d)?;
        }
        if let Some(s) = self.ssimulacra2 {
            check_ssimulacra2(s)?;
        }
        for (given, bound) in
            [(self.distance.is_some(), Opt::Distance), (self.ssimulacra2.is_some(), Opt::Ssimulacra2)]
        {
            if given && self.target.is_some() {
                return Err(conflict(bound, Opt::Target, "name two operating points: give one").into());
            }
        }
        if let Some(strength) = self.map_strength {
            check_map_strength(strength)?;
        }
        if let Some(lambda) = self.rd_lambda {
            check_rd_lambda(lambda)?;
        }
        let per_block = match (self.target, self.adaptive) {
            (Some(Preset::Machine), Some(_)) => {
                return Err(conflict(
                    Opt::Target,
                    Opt::Adaptive,
                    "machine and adaptive human are two maps: give one",
                )
                .into());
            }
            (Some(Preset::Machine), None) => Some(MapKind::Machine),
            (_, Some(Adaptive::Human)) => Some(MapKind::Human(self.pixel_model.unwrap_or_default())),
            _ => None,
        };
        if self.map_strength.is_some() && per_block.is_none() {
            return Err(invalid(Opt::MapStrength, "applies to target machine and adaptive human only").into());
        }
        if self.rd_lambda.is_some() && per_block != Some(MapKind::Machine) {
            return Err(invalid(Opt::RdLambda, "applies to target machine only").into());
        }
        if self.sampling.is_some() && self.jpeg.sampling.is_some() {
            return Err(invalid(
                Opt::Sampling,
                "and cjpeg's sampling factors (-sample) set the same thing: give one",
            )
            .into());
        }
        // Tables written out without a quality mean "these tables as written", as in cjpeg: a fixed
        // encode with nothing to search.
        let fixed = self.quality.is_some() || self.jpeg.qtables.is_some();
        let quality = self.quality.unwrap_or(DEFAULT_BASE_QUALITY);
        let mode = if let Some(map) = per_block {
            // The machine target codes on the machine tables unless other base tables are named.
            let own_tables = self.jpeg.qtables.is_some() || self.quant_table.is_some();
            let tables = if map == MapKind::Machine && !own_tables {
                BaseTables::Machine
            } else {
                BaseTables::Options
            };
            // The machine target chooses blocks by rate unless `rd-lambda 0` (a map strength then makes
            // the map the rule; with the rate choice it bounds each block).
            let rd_lambda = match (map, self.rd_lambda) {
                (MapKind::Human(_), _) => 0.0,
                (MapKind::Machine, Some(lambda)) => lambda,
                (MapKind::Machine, None) => machine_rd_lambda(quality),
            };
            Mode::PerBlock { map, strength: self.map_strength, quality, tables, rd_lambda }
        } else if fixed {
            Mode::Fixed(quality)
        } else {
            let target = match (self.distance, self.ssimulacra2, self.target) {
                (None, None, Some(preset)) => Target::preset(preset).unwrap_or_default(),
                (None, None, None) => Target::default(),
                (distance, ssimulacra2, _) => Target::bounds(distance, ssimulacra2)?,
            };
            Mode::Auto {
                target,
                decider: self.decider.unwrap_or_default(),
                min_quality: self.min_quality,
                max_quality: self.max_quality,
                block: self.block.unwrap_or(DEFAULT_BLOCK),
                prior: self.search != Some(SearchKind::Block),
            }
        };
        if let (Some(min), Some(max)) = (self.min_quality, self.max_quality)
            && min > max
            && matches!(mode, Mode::Auto { .. })
        {
            return Err(conflict(Opt::MinQuality, Opt::MaxQuality, format!("{min} is above {max}")).into());
        }
        if !matches!(mode, Mode::Auto { .. }) {
            let why = if per_block.is_some() {
                "per-block quantisation codes at the base quality (it steers the search, which runs without a quality)"
            } else {
                "the quality is fixed (it steers the search, which runs without a quality)"
            };
            let human_target = self.target.is_some_and(|t| t != Preset::Machine);
            for (given, option) in [
                (human_target, Opt::Target),
                (self.distance.is_some(), Opt::Distance),
                (self.ssimulacra2.is_some(), Opt::Ssimulacra2),
                (self.search.is_some(), Opt::Search),
                (self.decider.is_some(), Opt::Decider),
                (self.min_quality.is_some(), Opt::MinQuality),
                (self.max_quality.is_some(), Opt::MaxQuality),
                (self.block.is_some(), Opt::Block),
            ] {
                if given {
                    warn(option, why);
                }
            }
        }
        if self.pixel_model.is_some() && !matches!(per_block, Some(MapKind::Human(_))) {
            warn(Opt::PixelModel, "it chooses the map of adaptive human (and of the CLI's --jnd-map)");
        }
        let device = self.accelerator()?;
        let runs_model = matches!(mode, Mode::Auto { decider: DeciderKind::Model | DeciderKind::VpJnd, .. })
            || matches!(mode, Mode::PerBlock { map: MapKind::Machine, strength, rd_lambda, .. }
                if strength.unwrap_or(MapKind::Machine.default_strength()) > 0.0 || rd_lambda > 0.0);
        if self.device.is_some_and(|d| d != Accelerator::Cpu) && !runs_model {
            warn(
                Opt::Device,
                "only deciders vp-jnd and model and target machine with a map strength or a rate multiplier run a network (the teacher, \
                 the quality prior, the pixel-wise JND map and the machine tables run on the CPU)",
            );
        }
        if format == OutputFormat::Jpeg {
            for (given, option) in
                [(self.heif_chroma.is_some(), Opt::HeifChroma), (self.heif_preset.is_some(), Opt::HeifPreset)]
            {
                if given {
                    warn(option, "the output is JPEG (it sets HEIF's encoder)");
                }
            }
        }
        if let (Some(sampling), Some(chroma)) = (self.sampling, self.heif_chroma)
            && sampling != chroma
        {
            return Err(conflict(Opt::Sampling, Opt::HeifChroma, "ask for two samplings: give one").into());
        }
        let mut jpeg = self.jpeg.clone();
        if let Some(set) = self.quant_table {
            if set > 8 {
                return Err(Error::Parameter(format!("mozjpeg's table set {set} (need 0..8)")));
            }
            jpeg.quant_table_set = set;
        }
        let mut heif = HeifOptions { preset: self.heif_preset.clone(), ..HeifOptions::default() };
        if let Some(Sampling::S444) = self.sampling.or(self.heif_chroma) {
            heif.chroma = HeifChroma::C444;
        }
        match self.sampling {
            Some(Sampling::S420) => jpeg.sampling = Some(vec![(2, 2)]),
            Some(Sampling::S444) => jpeg.sampling = Some(vec![(1, 1)]),
            // The machine target's top qualities: 4:4:4, where it reaches more agreement for fewer bits.
            None if jpeg.sampling.is_none()
                && matches!(mode, Mode::PerBlock { map: MapKind::Machine, quality, .. }
                    if quality >= MACHINE_FULL_CHROMA_FROM) =>
            {
                jpeg.sampling = Some(vec![(1, 1)]);
            }
            None => {}
        }
        let strip = self.strip.unwrap_or(Strip::None);
        let metadata = MetadataPolicy {
            keep_icc: !matches!(strip, Strip::Icc | Strip::All),
            keep_exif: !matches!(strip, Strip::Exif | Strip::All),
            icc: self.icc.clone(),
        };
        let mut limits = Limits::default();
        if let Some(max) = self.max_memory {
            limits.max_memory = max;
        }
        // The marker is metadata of jndenc's own: strip all, no JFIF (no APP0 either) and -revert
        // (libjpeg-turbo's cjpeg, byte for byte) leave it out.
        let marker = strip != Strip::All && jpeg.jfif && !jpeg.revert;
        let settings = Settings {
            format: Some(format),
            jpeg_encoder: self.codec,
            jpeg,
            heif,
            mode,
            metadata,
            decode: DecodeOptions { format: self.targa.then_some(InputFormat::Targa), limits },
            verify: self.verify,
            visuals: self.visuals,
            measure_saving: self.measure_saving,
            marker,
            force: self.force,
            choose_sampling: self.sampling.is_none()
                && self.heif_chroma.is_none()
                && self.jpeg.sampling.is_none()
                && self.jpeg.color == crate::codec::JpegColor::Auto,
        };
        Ok(Resolved { settings, device, warnings })
    }
}
