//! # jndenc: the encoder library
//!
//! This crate owns everything between bytes in and bytes out. Most callers need one type:
//! [`EncodePlan`], built once from [`Settings`] (validated there), then run on each image with
//! [`EncodePlan::decode`] and [`EncodePlan::encode`]; the `jndenc` binary, its batch mode and libjnd
//! all do exactly that. Underneath:
//!
//! - [`Image`]: an 8-bit RGB or grayscale picture with its ICC profile and EXIF carried alongside;
//! - [`decode`]: reading PPM/PGM, BMP, PNG and TIFF (16-bit is rounded to 8-bit), Targa, GIF, WebP, JPEG
//!   (libjpeg, one pass, corrupt data refused) and, with the `heif` feature, HEIF, with [`Limits`] checked before any
//!   large allocation;
//! - [`codec`]: the output codecs behind one [`Codec`] trait: JPEG through mozjpeg
//!   ([`codec::MozJpeg`]), JPEG through the pure-Rust `jpeg-encoder` crate ([`codec::RustJpeg`]), and
//!   HEVC-intra in HEIF through libheif + x265 ([`codec::Heif`]); each also decodes its own output, so
//!   candidates can be judged; [`codec::adaptive`] writes per-block quantised JPEG from a JND map;
//! - [`auto`] and [`search`]: the deciders (embedded VP-JND model, butteraugli teacher), their
//!   [`auto::Decision`]s, and the block search over real candidates;
//! - [`report`]: JSON, CSV and HTML reports of what each image cost and saved;
//! - [`jpeg_info`]: the JPEG marker walk (frame, sampling, tables, restart interval, ICC, EXIF) and a
//!   metadata rewriter for inputs kept as they are;
//! - [`output`]: atomic writing (temporary file + rename), never over the input.
//!
//! `ARCHITECTURE.md` at the repository root draws the flow. The `jndenc` command-line tool is built with
//! the default `binary` feature; library users can turn it off and never compile clap.
//!
//! ```no_run
//! use jndenc::plan::{Models, Mode};
//! use jndenc::{EncodePlan, Settings};
//! # fn main() -> Result<(), jndenc::Error> {
//! let bytes = std::fs::read("fixtures/photo.png").map_err(|e| jndenc::Error::io("fixtures/photo.png", e))?;
//! // Auto quality at the human first JND with the embedded model (Settings::default()), or fixed:
//! let plan = EncodePlan::new(Settings { mode: Mode::Fixed(80), ..Settings::default() }, &Models::default())?;
//! let encoding = plan.encode_file(&bytes, "photo.png")?;
//! println!("quality {}: {} bytes", encoding.report.quality, encoding.bytes.len());
//! # Ok(()) }
//! ```

pub mod auto;
pub mod batch;
pub mod codec;
pub mod decode;
mod error;
pub mod jpeg_info;
#[cfg(feature = "mozjpeg")]
mod libjpeg;
mod limits;
pub mod output;
pub mod plan;
mod raster;
pub mod report;
pub mod search;
mod tiff_metadata;
mod visual;

pub use codec::Codec;
pub use decode::{DecodeOptions, InputFormat};
pub use error::{Error, Result};
pub use jnd_model::{ColorType, Image, Metadata};
pub use limits::{JPEG_MAX_DIMENSION, Limits, MAX_PIXELS};
pub use plan::{EncodePlan, Encoding, Settings};
pub use raster::encode_png;

/// The version of this crate, as printed by `jndenc -version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
