//! The auto-quality path (embedded VP-JND model, block search, real mozjpeg candidates) on tiny
//! pictures built from the input: the chosen quality stays in bounds and the output decodes to the
//! input's size.
#![no_main]

use std::sync::OnceLock;

use jnd_model::{ColorType, Image};
use jndenc::DecodeOptions;
use jndenc::auto::{AutoOptions, ModelDecider, Target, encode_at_jnd};
use jndenc::codec::{JpegOptions, MozJpeg, OutputFormat};
use jndenc::decode::decode;
use libfuzzer_sys::fuzz_target;

fn decider() -> &'static ModelDecider {
    static DECIDER: OnceLock<ModelDecider> = OnceLock::new();
    DECIDER.get_or_init(|| {
        ModelDecider::embedded(Target::HumanFirstJnd, OutputFormat::Jpeg).expect("embedded model loads")
    })
}

fuzz_target!(|data: &[u8]| {
    let [w, h, mode, lo, hi, pixels @ ..] = data else { return };
    let (width, height) = (u32::from(w % 48) + 1, u32::from(h % 48) + 1);
    let color = if mode & 1 == 0 { ColorType::Rgb } else { ColorType::Gray };
    let channels = if color == ColorType::Rgb { 3 } else { 1 };
    let len = (width * height) as usize * channels;
    let samples: Vec<u8> =
        if pixels.is_empty() { vec![128; len] } else { pixels.iter().copied().cycle().take(len).collect() };
    let image = Image::new(width, height, color, samples).expect("valid picture");
    let mut options = AutoOptions::for_format(OutputFormat::Jpeg);
    options.min_quality = lo % 100 + 1;
    options.max_quality = hi % 100 + 1;
    options.block = usize::from(mode >> 1) % 5 + 1;
    let codec = MozJpeg::new(JpegOptions::default());
    let Ok(result) = encode_at_jnd(&image, &codec, decider(), &options) else {
        // Only an inverted range may be refused.
        assert!(options.min_quality > options.max_quality);
        return;
    };
    assert!((options.min_quality..=options.max_quality).contains(&result.quality));
    let back = decode(&result.encoded.bytes, &DecodeOptions::default()).expect("output decodes");
    assert_eq!((back.width(), back.height()), (width, height));
});
