//! The names of the vocabulary: every option ([`Opt`]) and every named value, each spelled once.
//! Front ends translate their syntax to these names (the CLI's `--min-quality`, Python's
//! `min_quality=`, C's `jnd_encoder_set_quality_bounds`), and [`OPTIONS`] is the table the docs
//! (`docs/options.md`) are generated from.

use jnd_model::{Accelerator, PixelJndModel};

use crate::codec::OutputFormat;
use crate::settings::{DeciderKind, JpegEncoder};

/// One option of the vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Opt {
    /// Output format.
    Format,
    /// Operating point by name (a preset, or `machine`).
    Target,
    /// Operating point as a butteraugli 3-norm ceiling.
    Distance,
    /// Operating point as a SSIMULACRA 2 floor.
    Ssimulacra2,
    /// A fixed quality (no search).
    Quality,
    /// Lowest quality the search considers.
    MinQuality,
    /// Highest quality the search considers, and the reference of the saving.
    MaxQuality,
    /// JPEG encoder.
    Codec,
    /// Chroma subsampling.
    Sampling,
    /// Metadata dropped from the output.
    Strip,
    /// Who judges candidates.
    Decider,
    /// Where the models run.
    Device,
    /// How the search runs.
    Search,
    /// Block size of the block search.
    Block,
    /// Per-block quantisation from a pixel-wise JND map.
    Adaptive,
    /// Multiplier of a per-block JND map.
    MapStrength,
    /// Rate multiplier of the machine target's per-block choice.
    RdLambda,
    /// Which pixel-wise JND model.
    PixelModel,
    /// Measure the output's distance for the report.
    Verify,
    /// HEIF's chroma subsampling alone.
    HeifChroma,
    /// x265's speed preset for HEIF.
    HeifPreset,
}

/// What the docs and the front ends say about one option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptInfo {
    /// The option.
    pub opt: Opt,
    /// Its name in the library's words (and in error messages).
    pub name: &'static str,
    /// The values it takes.
    pub values: &'static str,
    /// What happens when it is not given.
    pub default: &'static str,
    /// What it does.
    pub help: &'static str,
    /// The command line's switch.
    pub cli: &'static str,
    /// The Python keyword of `jndenc.encode`, when Python offers it.
    pub python: Option<&'static str>,
    /// The C setter, when libjnd offers it.
    pub c: Option<&'static str>,
}

/// Every option, in the order of the docs' table.
pub const OPTIONS: &[OptInfo] = &[
    OptInfo {
        opt: Opt::Format,
        name: "format",
        values: "jpeg, heif",
        default: "jpeg",
        help: "the output format: JPEG (mozjpeg at a fixed quality, jpegli when jndenc chooses) or HEVC-intra HEIF (x265)",
        cli: "--format",
        python: Some("format"),
        c: Some("jnd_encoder_set_format"),
    },
    OptInfo {
        opt: Opt::Target,
        name: "target",
        values: "visually-lossless, web-high, web, human-first-jnd, sur75, machine",
        default: "visually-lossless",
        help: "the operating point the quality is chosen for, a butteraugli 3-norm ceiling and a SSIMULACRA 2 floor (docs/decision.md says what each means for a viewer; strict is an alias of visually-lossless); machine codes for classifiers on the machine tables at the base quality, each block chosen by rate and the classifiers' sensitivity (rd-lambda), 4:4:4 from quality 96",
        cli: "--target",
        python: Some("target"),
        c: Some("jnd_encoder_set_target"),
    },
    OptInfo {
        opt: Opt::Distance,
        name: "distance",
        values: "0.5 to 4.0",
        default: "the target's",
        help: "the operating point's butteraugli 3-norm ceiling instead of a named target (with ssimulacra2, both bounds)",
        cli: "--distance",
        python: Some("distance"),
        c: Some("jnd_encoder_set_distance"),
    },
    OptInfo {
        opt: Opt::Ssimulacra2,
        name: "ssimulacra2",
        values: "0 to 100",
        default: "the target's",
        help: "the operating point's SSIMULACRA 2 floor instead of a named target (with distance, both bounds)",
        cli: "--ssimulacra2",
        python: Some("ssimulacra2"),
        c: Some("jnd_encoder_set_ssimulacra2"),
    },
    OptInfo {
        opt: Opt::Quality,
        name: "quality",
        values: "0 to 100",
        default: "chosen by the search",
        help: "a fixed quality (cjpeg's -quality): no search; the base quality of per-block coding",
        cli: "-quality",
        python: Some("quality"),
        c: Some("jnd_encoder_set_quality"),
    },
    OptInfo {
        opt: Opt::MinQuality,
        name: "min-quality",
        values: "0 to 100",
        default: "the format's lowest (JPEG 1, HEIF 0)",
        help: "the lowest quality the search considers",
        cli: "--min-quality",
        python: Some("min_quality"),
        c: Some("jnd_encoder_set_quality_bounds"),
    },
    OptInfo {
        opt: Opt::MaxQuality,
        name: "max-quality",
        values: "0 to 100",
        default: "100",
        help: "the highest quality the search considers, and the reference of the saving",
        cli: "--max-quality",
        python: Some("max_quality"),
        c: Some("jnd_encoder_set_quality_bounds"),
    },
    OptInfo {
        opt: Opt::Codec,
        name: "codec",
        values: "mozjpeg, jpegli, rust",
        default: "jpegli when jndenc chooses the quality, mozjpeg at a fixed quality",
        help: "the JPEG encoder",
        cli: "--codec",
        python: Some("codec"),
        c: Some("jnd_encoder_set_codec"),
    },
    OptInfo {
        opt: Opt::Sampling,
        name: "sampling",
        values: "420, 444",
        default: "420",
        help: "chroma subsampling of JPEG and HEIF output (the CLI's -sample sets JPEG's factors one by one)",
        cli: "--sampling",
        python: Some("sampling"),
        c: Some("jnd_encoder_set_sampling"),
    },
    OptInfo {
        opt: Opt::Strip,
        name: "strip",
        values: "none, icc, exif, all",
        default: "none",
        help: "metadata left out of the output (all also leaves out jndenc's marker)",
        cli: "--strip",
        python: Some("strip"),
        c: Some("jnd_encoder_set_strip"),
    },
    OptInfo {
        opt: Opt::Decider,
        name: "decider",
        values: "teacher, vp-jnd, model",
        default: "teacher",
        help: "who judges candidates: the metrics themselves (teacher), the whole-picture VP-JND judge \
               checked by the metrics near the bounds (vp-jnd), or the patch network (model)",
        cli: "--decider",
        python: Some("decider"),
        c: Some("jnd_encoder_set_decider"),
    },
    OptInfo {
        opt: Opt::Device,
        name: "device",
        values: "cpu, wgpu, cuda",
        default: "JNDENC_DEVICE, else cpu",
        help: "where the networks run (cuda and wgpu need a build with that feature)",
        cli: "--device",
        python: Some("device"),
        c: Some("jnd_encoder_set_device"),
    },
    OptInfo {
        opt: Opt::Search,
        name: "search",
        values: "prior, block",
        default: "prior",
        help: "start at the quality prior and bracket the answer, or run the block search over the whole range",
        cli: "--search",
        python: Some("search"),
        c: Some("jnd_encoder_set_search"),
    },
    OptInfo {
        opt: Opt::Block,
        name: "block",
        values: "1 to 10",
        default: "3",
        help: "the block size of the block search",
        cli: "--block",
        python: Some("block"),
        c: None,
    },
    OptInfo {
        opt: Opt::Adaptive,
        name: "adaptive",
        values: "human",
        default: "off",
        help: "per-block quantisation from the pixel-wise JND map, on top of the base quality",
        cli: "--adaptive",
        python: Some("adaptive"),
        c: None,
    },
    OptInfo {
        opt: Opt::MapStrength,
        name: "map-strength",
        values: "0 to 64",
        default: "machine 0, adaptive 1",
        help: "multiplies the per-block JND map of adaptive human, or of target machine: there each block's bound under the rate choice, the rule itself with rd-lambda 0",
        cli: "--map-strength",
        python: Some("map_strength"),
        c: None,
    },
    OptInfo {
        opt: Opt::RdLambda,
        name: "rd-lambda",
        values: "0 to 1",
        default: "machine: by the quality",
        help: "target machine's per-block choice by rate and the classifiers' sensitivity: the squared change \
               of their objective one bit is worth (larger: smaller files; 0: the tables alone, or the map)",
        cli: "--rd-lambda",
        python: Some("rd_lambda"),
        c: None,
    },
    OptInfo {
        opt: Opt::PixelModel,
        name: "pixel-model",
        values: "wu2017, yang2005",
        default: "wu2017",
        help: "the pixel-wise JND model of adaptive human (and of the CLI's --jnd-map)",
        cli: "--jnd-model",
        python: Some("pixel_model"),
        c: None,
    },
    OptInfo {
        opt: Opt::Verify,
        name: "verify",
        values: "on, off",
        default: "off",
        help: "measure the written output's butteraugli distance for the report",
        cli: "--verify",
        python: Some("verify"),
        c: None,
    },
    OptInfo {
        opt: Opt::HeifChroma,
        name: "heif-chroma",
        values: "420, 444",
        default: "sampling's",
        help: "HEIF's chroma subsampling only (sampling sets JPEG's and HEIF's)",
        cli: "--heif-chroma",
        python: None,
        c: None,
    },
    OptInfo {
        opt: Opt::HeifPreset,
        name: "heif-preset",
        values: "x265's presets, ultrafast to placebo",
        default: "libheif's",
        help: "x265's speed preset for HEIF output",
        cli: "--heif-preset",
        python: Some("heif_preset"),
        c: None,
    },
];

impl Opt {
    /// Every option, in [`OPTIONS`]' order.
    pub fn all() -> impl Iterator<Item = Opt> {
        OPTIONS.iter().map(|info| info.opt)
    }

    /// What the docs say about this option.
    pub fn info(self) -> &'static OptInfo {
        // Every option has exactly one row (a unit test checks), so the search always finds it.
        OPTIONS.iter().find(|info| info.opt == self).unwrap_or(&OPTIONS[0])
    }

    /// The option's name in the library's words.
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// The option called `name` (the library's name, or Python's spelling with `_`).
    pub fn from_name(name: &str) -> Option<Opt> {
        OPTIONS.iter().find(|info| info.name == name || info.python == Some(name)).map(|info| info.opt)
    }
}

impl std::fmt::Display for Opt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A value with a name in the vocabulary: parsed from it, written as it.
pub trait Named: Sized + Copy + PartialEq + 'static {
    /// Every value, in the order the docs list them.
    const ALL: &'static [Self];
    /// The option whose values these are.
    const OPTION: Opt;
    /// The value's name.
    fn name(self) -> &'static str;
    /// The value called `name`.
    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.name() == name)
    }
    /// The names, comma-separated, for messages.
    fn names() -> String {
        Self::ALL.iter().map(|v| v.name()).collect::<Vec<_>>().join(", ")
    }
}

/// Defines a value enum of the vocabulary with its names.
macro_rules! named_values {
    ($(#[$meta:meta])* $vis:vis enum $name:ident for $opt:ident {
        $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)?
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name { $($(#[$vmeta])* $variant),+ }
        impl Named for $name {
            const ALL: &'static [Self] = &[$($name::$variant),+];
            const OPTION: Opt = Opt::$opt;
            fn name(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }
    };
}

/// Implements [`Named`] for a value enum defined elsewhere.
macro_rules! named_elsewhere {
    ($name:ty, $opt:ident, { $($variant:path = $text:literal),+ $(,)? }) => {
        impl Named for $name {
            const ALL: &'static [Self] = &[$($variant),+];
            const OPTION: Opt = Opt::$opt;
            fn name(self) -> &'static str {
                match self { $($variant => $text),+ }
            }
        }
    };
}

/// A named operating point (`target`); see [`crate::target::Target::preset`] for each one's bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Preset {
    /// butteraugli 3-norm 1.0 (jpegli's and cjxl's visually lossless distance) and its SSIMULACRA 2
    /// floor: the default.
    VisuallyLossless,
    /// 3-norm 1.5 and its floor: web images people look at closely.
    WebHigh,
    /// 3-norm 2.0 and its floor: web images at the size they are shown.
    Web,
    /// MCL-JCI's mean first JND (3-norm 2.295): about half of its viewers noticed; visible at 1:1.
    HumanFirstJnd,
    /// The quality 75 % of MCL-JCI's viewers could not tell from the original (3-norm 2.095).
    Sur75,
    /// Machine consumers: the machine quantisation tables at the base quality.
    Machine,
}

impl Named for Preset {
    const ALL: &'static [Self] =
        &[Self::VisuallyLossless, Self::WebHigh, Self::Web, Self::HumanFirstJnd, Self::Sur75, Self::Machine];
    const OPTION: Opt = Opt::Target;
    fn name(self) -> &'static str {
        match self {
            Self::VisuallyLossless => "visually-lossless",
            Self::WebHigh => "web-high",
            Self::Web => "web",
            Self::HumanFirstJnd => "human-first-jnd",
            Self::Sur75 => "sur75",
            Self::Machine => "machine",
        }
    }
    /// The preset called `name`; `strict`, the second generation's name, is `visually-lossless`.
    fn from_name(name: &str) -> Option<Self> {
        if name == "strict" {
            return Some(Self::VisuallyLossless);
        }
        Self::ALL.iter().copied().find(|v| v.name() == name)
    }
}

named_values! {
    /// Which metadata the output leaves out (`strip`).
    pub enum Strip for Strip {
        /// Keep ICC profile and EXIF.
        None = "none",
        /// Leave out the ICC profile.
        Icc = "icc",
        /// Leave out EXIF.
        Exif = "exif",
        /// Leave out both, and jndenc's marker.
        All = "all",
    }
}

named_values! {
    /// Chroma subsampling (`sampling`).
    pub enum Sampling for Sampling {
        /// Chroma at half resolution both ways.
        S420 = "420",
        /// Chroma at full resolution.
        S444 = "444",
    }
}

named_values! {
    /// How the search runs (`search`).
    pub enum SearchKind for Search {
        /// Start at the quality prior and bracket the answer.
        Prior = "prior",
        /// The block search over the whole range.
        Block = "block",
    }
}

named_values! {
    /// Per-block quantisation for people (`adaptive`).
    pub enum Adaptive for Adaptive {
        /// From the pixel-wise JND map.
        Human = "human",
    }
}

named_elsewhere!(OutputFormat, Format, { OutputFormat::Jpeg = "jpeg", OutputFormat::Heif = "heif" });
named_elsewhere!(JpegEncoder, Codec, {
    JpegEncoder::MozJpeg = "mozjpeg",
    JpegEncoder::Jpegli = "jpegli",
    JpegEncoder::Rust = "rust",
});
named_elsewhere!(DeciderKind, Decider, {
    DeciderKind::Teacher = "teacher",
    DeciderKind::VpJnd = "vp-jnd",
    DeciderKind::Model = "model",
});
impl Named for Accelerator {
    const ALL: &'static [Self] = &Accelerator::ALL;
    const OPTION: Opt = Opt::Device;
    fn name(self) -> &'static str {
        // The model crate names its devices (its own errors and `JNDENC_DEVICE` use them).
        Accelerator::name(self)
    }
}
named_elsewhere!(PixelJndModel, PixelModel, {
    PixelJndModel::Wu2017 = "wu2017",
    PixelJndModel::Yang2005 = "yang2005",
});

/// The options as the Markdown table of `docs/options.md` (a test keeps the file equal to it).
pub fn options_markdown() -> String {
    let mut out = String::from(
        "| option | values | default | what it does | CLI | Python (`jndenc.encode`) | C (libjnd) |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for info in OPTIONS {
        let code = |text: Option<&str>| text.map_or_else(|| "-".to_string(), |t| format!("`{t}`"));
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | `{}` | {} | {} |\n",
            info.name,
            info.values,
            info.default,
            info.help,
            info.cli,
            code(info.python.map(|k| format!("{k}=")).as_deref()),
            code(info.c.map(|f| format!("{f}()")).as_deref()),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<T: Named + std::fmt::Debug>() {
        for &value in T::ALL {
            assert_eq!(T::from_name(value.name()), Some(value), "{value:?}");
        }
        assert_eq!(T::from_name("no such value"), None);
        // The table's list of values is the enum's.
        assert_eq!(T::OPTION.info().values, T::names(), "{:?}", T::OPTION);
    }

    #[test]
    fn every_named_value_round_trips_and_matches_the_table() {
        round_trip::<Preset>();
        round_trip::<Strip>();
        round_trip::<Sampling>();
        round_trip::<SearchKind>();
        round_trip::<Adaptive>();
        round_trip::<OutputFormat>();
        round_trip::<JpegEncoder>();
        round_trip::<DeciderKind>();
        round_trip::<Accelerator>();
        round_trip::<PixelJndModel>();
    }

    #[test]
    fn the_docs_table_is_the_vocabulary() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/options.md");
        let doc = std::fs::read_to_string(path).unwrap_or_default();
        let begin = "<!-- options table: generated from encoder/src/settings/names.rs -->\n";
        let end = "<!-- end of options table -->";
        let table = options_markdown();
        if std::env::var_os("JND_UPDATE_DOCS").is_some() {
            let (head, rest) = doc.split_once(begin).expect("docs/options.md has the begin marker");
            let (_, tail) = rest.split_once(end).expect("docs/options.md has the end marker");
            std::fs::write(path, format!("{head}{begin}{table}{end}{tail}")).unwrap();
            return;
        }
        let inside = doc.split_once(begin).and_then(|(_, rest)| rest.split_once(end)).map(|(t, _)| t);
        assert_eq!(inside, Some(table.as_str()), "docs/options.md is stale: run with JND_UPDATE_DOCS=1");
    }

    #[test]
    fn every_option_has_one_row_and_its_names_resolve() {
        for info in OPTIONS {
            assert_eq!(OPTIONS.iter().filter(|i| i.opt == info.opt).count(), 1, "{:?}", info.opt);
            assert_eq!(Opt::from_name(info.name), Some(info.opt));
            if let Some(keyword) = info.python {
                assert_eq!(Opt::from_name(keyword), Some(info.opt));
                assert_eq!(keyword, info.name.replace('-', "_"), "Python spells the name with _");
            }
        }
    }
}
