//! # jndenc: the encoder library
//!
//! This crate owns everything between bytes in and bytes out:
//!
//! - [`Image`]: an 8-bit RGB or grayscale picture with its ICC profile and EXIF carried alongside;
//! - [`decode`]: reading PPM/PGM, BMP, PNG (16-bit is rounded to 8-bit), Targa, GIF, JPEG and, with the
//!   `heif` feature, HEIF, with [`Limits`] checked before any large allocation;
//! - [`codec`]: the output codecs behind one [`Codec`] trait: JPEG through mozjpeg
//!   ([`codec::MozJpeg`]), JPEG through the pure-Rust `jpeg-encoder` crate ([`codec::RustJpeg`]), and
//!   HEVC-intra in HEIF through libheif + x265 ([`codec::Heif`]); each also decodes its own output, so
//!   candidates can be judged;
//! - [`jpeg_info`]: a small JPEG marker reader (frame type, sampling, quantization tables, restart
//!   interval, ICC and EXIF) used by tests and by later stages that inspect inputs;
//! - [`output`]: atomic writing (temporary file + rename), never over the input.
//!
//! Later stages land here too: the quality search, per-block quantization and reports (see
//! `ARCHITECTURE.md` at the repository root). The `jndenc` command-line tool is built with the default
//! `binary` feature; library users can turn it off and never compile clap.
//!
//! ```no_run
//! use jndenc::{codec::{Codec, MozJpeg, JpegOptions}, decode, DecodeOptions};
//! # fn main() -> Result<(), jndenc::Error> {
//! let bytes = std::fs::read("fixtures/photo.png").map_err(|e| jndenc::Error::io("fixtures/photo.png", e))?;
//! let image = decode::decode(&bytes, &DecodeOptions::default())?;
//! let jpeg = MozJpeg::new(JpegOptions::default()).encode(&image, 80)?;
//! # let _ = jpeg; Ok(()) }
//! ```

pub mod auto;
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

pub use codec::Codec;
pub use decode::{DecodeOptions, InputFormat};
pub use error::{Error, Result};
pub use jnd_model::{ColorType, Image, Metadata};
pub use limits::{JPEG_MAX_DIMENSION, Limits, MAX_PIXELS};
pub use plan::{EncodePlan, Encoding, Settings};
pub use raster::encode_png;

/// The version of this crate, as printed by `jndenc -version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
