//! # trainer: data, labels, training and evaluation
//!
//! This crate owns everything that produces or judges the models in `jnd-model`; its binary is
//! `jnd-train`. CI never trains: it runs this crate's tests on small fixtures, while the commands
//! that compute ladders, labels and models are documented in `trainer/DATA.md` and their results are
//! committed under `fixtures/labels/`.
//!
//! - [`ladder`]: a JND ladder (encode at every quality, decode, measure butteraugli and, sparsely,
//!   SSIMULACRA 2), cached on disk, read and written as CSV.
//! - [`teacher`]: the calibrated perceptual teacher (a butteraugli threshold `tau` with a monotone
//!   envelope) that labels candidates "visible" or "not".
//! - [`human`]: loaders for real human JND data (MCL-JCI's subject matrix, KonJND-1k's
//!   `subjective_ratings.csv`) and the picture-wise JND derived from them.
//! - [`fit`]: fitting `tau` by quantile matching to a human distribution.
//! - [`codec_compare`]: codecs compared at equal quality from their ladders (how auto mode's default
//!   JPEG codec is chosen).
//! - [`judge`]: the whole-picture judge's candidates, training and decision evaluation.
//! - [`split`]: the fixed train/validation split of the photo set.
//! - [`vpjnd`]: VP-JNDnet's dataset, training loop and evaluation (the search evaluation runs the
//!   library's own `jndenc::auto::search_candidates`, so the model card measures auto mode's code).
//! - [`cifar`], [`dmvjnd`], [`machine_coding`]: CIFAR-10 loaders, DMV-JND's classifiers and network
//!   training, and the rate-against-classifier-agreement evaluation of `--target machine`;
//!   [`machine_tables`]: the machine quantisation tables from the classifiers' sensitivity per DCT
//!   frequency.

pub mod cifar;
pub mod codec_compare;
pub mod dmvjnd;
pub mod fit;
pub mod human;
pub mod judge;
pub mod ladder;
pub mod machine_coding;
pub mod machine_tables;
pub mod operating;
pub mod prior;
pub mod split;
pub mod teacher;
pub mod vpjnd;

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A data file is malformed; the message names the file, line and field.
    #[error("{file}:{line}: {message}")]
    Format {
        /// The file (or a label for in-memory text).
        file: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The path involved.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Encoding or decoding a candidate failed.
    #[error(transparent)]
    Codec(#[from] jndenc::Error),
    /// A metric failed.
    #[error(transparent)]
    Model(#[from] jnd_model::Error),
    /// Not enough data for what was asked.
    #[error("{0}")]
    Insufficient(String),
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn format_error(file: &str, line: usize, message: impl Into<String>) -> Error {
    Error::Format { file: file.to_string(), line, message: message.into() }
}

pub(crate) fn io_error(path: &std::path::Path, source: std::io::Error) -> Error {
    Error::Io { path: path.display().to_string(), source }
}
