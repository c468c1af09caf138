//! # trainer: data, labels, training and evaluation
//!
//! This crate will own everything that produces or judges the models in `jnd-model`: JND ladders
//! (encode at every quality, decode, measure), the calibrated perceptual teacher and its labels,
//! loaders for human JND data (MCL-JCI, KonJND-1k) and CIFAR-10, the burn training loops for
//! VP-JNDnet, the CAM classifiers and DMV-JND-NET, and the evaluations whose results are committed
//! beside the model cards. Its binary is `jnd-train`. CI never trains.
//!
//! For now it holds the command skeleton and the codec round trip every ladder will be built on.

use jndenc::codec::Codec;
use jndenc::{Image, Result};

/// One rung of a quality ladder: a quality, the encoded size and the decoded candidate.
#[derive(Debug, Clone)]
pub struct Rung {
    /// The codec's quality.
    pub quality: u8,
    /// Size of the encoded file in bytes.
    pub bytes: usize,
    /// The candidate as a viewer would see it.
    pub decoded: Image,
}

/// Encodes `image` at `quality` and decodes it back.
pub fn rung(codec: &dyn Codec, image: &Image, quality: u8) -> Result<Rung> {
    let encoded = codec.encode(image, quality)?;
    let decoded = codec.decode(&encoded.bytes)?;
    Ok(Rung { quality, bytes: encoded.bytes.len(), decoded })
}
