//! # jndenc: the encoder library
//!
//! This crate owns everything between bytes in and bytes out. Library users need the
//! [`prelude`]: a [`settings::Request`] of options in jndenc's vocabulary (the names the CLI, Python and
//! C share, `docs/options.md`), resolved once into [`Settings`]; an [`EncodePlan`] built from them; then
//! [`EncodePlan::encode_file`] (any input file's bytes) or [`EncodePlan::encode_pixels`] (an [`Image`],
//! or pixels borrowed through [`pixels::PixelView`]) per image, which returns the output bytes and a
//! complete [`report::ImageReport`]. The `jndenc` binary, its batch mode, libjnd and the Python package
//! all do exactly that. Underneath:
//!
//! - [`settings`]: the vocabulary ([`settings::Opt`], named values, [`settings::Request`] ->
//!   [`settings::Resolved`]) and the typed [`Settings`] a plan is built from;
//! - [`decode`]: reading PPM/PGM, BMP, PNG and TIFF (16-bit is rounded to 8-bit), Targa, GIF, WebP, JPEG
//!   (libjpeg, one pass, corrupt data refused) and, with the `heif` feature, HEIF, with [`Limits`]
//!   checked before any large allocation;
//! - [`codec`]: the output codecs behind one [`Codec`] trait (mozjpeg, jpegli, the pure-Rust
//!   `jpeg-encoder`, HEVC-intra HEIF through libheif + x265); each also decodes its own output, so
//!   candidates can be judged; [`codec::adaptive`] writes per-block quantised JPEG from a JND map;
//! - [`report`]: JSON, CSV and HTML reports of what each image cost and saved;
//! - [`batch`]: folders and archives, in parallel under a memory budget;
//! - [`output`]: atomic writing (temporary file + rename), never over the input.
//!
//! The deciders and the search ([`auto`], [`search`]) and the JPEG marker walk ([`jpeg_info`]) are
//! public for jndenc's trainer and benches, and hidden from these docs.
//!
//! `ARCHITECTURE.md` at the repository root draws the flow. The `jndenc` command-line tool is built with
//! the default `binary` feature; library users can turn it off and never compile clap.
//!
//! ```no_run
//! use jndenc::prelude::*;
//! # fn main() -> Result<(), jndenc::Error> {
//! let bytes = std::fs::read("fixtures/photo.png").map_err(|e| jndenc::Error::io("fixtures/photo.png", e))?;
//! // Options by their vocabulary names (or the typed fields of `Request`):
//! let mut request = Request::default();
//! request.set(Opt::Target, Value::Text("strict"))?;
//! let resolved = request.resolve()?;
//! let plan = EncodePlan::new(resolved.settings, &Models::on(resolved.device)?)?;
//! let encoding = plan.encode_file(&bytes, Names { input: "photo.png", output: "photo.jpg" })?;
//! println!("quality {}: {} bytes", encoding.report.quality, encoding.bytes.len());
//! # Ok(()) }
//! ```

#[doc(hidden)]
pub mod auto;
pub mod batch;
#[cfg(feature = "binary")]
pub mod cli;
pub mod codec;
pub mod decode;
mod error;
#[doc(hidden)]
pub mod jpeg_info;
#[cfg(feature = "mozjpeg")]
mod libjpeg;
mod limits;
pub mod models;
pub mod output;
pub mod pixels;
pub mod plan;
mod raster;
pub mod report;
#[doc(hidden)]
pub mod search;
pub mod settings;
mod strategy;
pub mod target;
mod tiff_metadata;
mod visual;

pub use codec::Codec;
pub use decode::{DecodeOptions, InputFormat};
pub use error::{Error, OptionError, Result};
pub use jnd_model::{ColorType, Image, Metadata};
pub use limits::{JPEG_MAX_DIMENSION, Limits, MAX_PIXELS};
pub use models::Models;
pub use plan::{EncodePlan, Encoding, Names};
pub use raster::encode_png;
pub use settings::Settings;

/// What a library user needs: the vocabulary, the plan, its models and what it returns.
pub mod prelude {
    pub use crate::pixels::{PixelLayout, PixelView, Strides};
    pub use crate::report::{ImageReport, Report};
    pub use crate::settings::{Opt, Request, Resolved, Value, Warning};
    pub use crate::{EncodePlan, Encoding, Error, Image, Metadata, Models, Names, OptionError, Settings};
}

/// The version of this crate, as printed by `jndenc -version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
