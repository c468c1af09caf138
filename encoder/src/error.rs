use std::path::{Path, PathBuf};

use crate::settings::Opt;

/// Everything that can go wrong in the encoder library, split by kind as image-rs does. Messages are
/// in the library's words (options by their vocabulary names); front ends spell options their own
/// way through [`OptionError::describe`].
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
    /// An option's value, or a combination of options, that the vocabulary refuses.
    #[error(transparent)]
    Option(#[from] OptionError),
    /// Settings built by hand that do not hold together (the vocabulary's [`crate::settings::Request`]
    /// never builds such settings).
    #[error("invalid parameter: {0}")]
    Parameter(String),
    /// The request is valid but this codec or build does not support it.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The device asked for is not compiled into this build or cannot run on this machine.
    #[error("{0}")]
    Device(String),
    /// An embedded model could not be loaded or run.
    #[error("{0}")]
    Model(String),
    /// Pixel data that does not form a picture (a caller's buffer, or two pictures that must match).
    #[error("{0}")]
    Pixels(String),
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

/// An option the vocabulary refuses: its value, or its combination with `other`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe(|opt| opt.name().to_string()))]
pub struct OptionError {
    /// The option refused.
    pub option: Opt,
    /// The option it conflicts with, when the combination is what is refused.
    pub other: Option<Opt>,
    /// Why, in the library's words.
    pub reason: String,
}

impl OptionError {
    /// The message with options spelled by `spell` (the CLI's `--min-quality`, Python's `min_quality`).
    pub fn describe(&self, spell: impl Fn(Opt) -> String) -> String {
        match self.other {
            Some(other) => format!("{} and {}: {}", spell(self.option), spell(other), self.reason),
            None => format!("{}: {}", spell(self.option), self.reason),
        }
    }
}

impl From<jnd_model::Error> for Error {
    /// Device errors, model errors and pixel errors of the model crate, each as its kind.
    fn from(error: jnd_model::Error) -> Self {
        use jnd_model::Error as M;
        match error {
            M::BackendUnavailable(..) | M::UnknownDevice(_) | M::DeviceUnusable(..) | M::SmokeTest(_) => {
                Error::Device(error.to_string())
            }
            M::Model(message) => Error::Model(message),
            M::InvalidImage(_) | M::Mismatch(_) => Error::Pixels(error.to_string()),
            _ => Error::Model(error.to_string()),
        }
    }
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io { path: path.as_ref().to_path_buf(), source }
    }

    /// A short name of the kind, as front ends name their exception classes and status codes.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::UnknownFormat | Error::EmptyInput | Error::Decode { .. } => "decode",
            Error::Limits(_) => "limits",
            Error::Encode { .. } => "encode",
            Error::Option(_) | Error::Parameter(_) => "parameter",
            Error::Unsupported(_) => "unsupported",
            Error::Device(_) => "device",
            Error::Model(_) => "model",
            Error::Pixels(_) => "pixels",
            Error::Io { .. } => "io",
        }
    }
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
