use std::path::{Path, PathBuf};

/// Everything that can go wrong in the encoder library, split by kind as image-rs does.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input bytes are not a picture in any format this build reads.
    #[error("unrecognised input format (jndenc reads PPM/PGM, BMP, PNG, Targa, GIF, TIFF, WebP, JPEG{heif})", heif = if cfg!(feature = "heif") { ", HEIF" } else { "" })]
    UnknownFormat,
    /// The input has no bytes at all.
    #[error("the input is empty (0 bytes)")]
    EmptyInput,
    /// The input is in a known format but could not be decoded (truncated, corrupt, ...).
    #[error("cannot decode {format} input: {message}")]
    Decode {
        /// The input format, e.g. "PNG".
        format: &'static str,
        /// What the decoder said.
        message: String,
    },
    /// The image is larger than a configured limit (dimensions, pixel count or memory).
    #[error("{0}")]
    Limits(String),
    /// The codec failed while encoding.
    #[error("{codec} encoder failed: {message}")]
    Encode {
        /// The codec, e.g. "mozjpeg".
        codec: &'static str,
        /// What the codec said.
        message: String,
    },
    /// A parameter is out of range or inconsistent with the others.
    #[error("invalid parameter: {0}")]
    Parameter(String),
    /// The request is valid but this codec or build does not support it.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// An embedded model could not be loaded or run.
    #[error("{0}")]
    Model(String),
    /// Pixel data that does not form a picture.
    #[error(transparent)]
    Image(#[from] jnd_model::Error),
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io { path: path.as_ref().to_path_buf(), source }
    }
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
