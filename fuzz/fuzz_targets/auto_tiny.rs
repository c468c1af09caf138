//! The auto-quality path as the binary and libjnd run it (an `EncodePlan`: embedded VP-JND model,
//! block search, real mozjpeg candidates) on tiny pictures built from the input: the chosen quality
//! stays in bounds and the output decodes to the input's size.
#![no_main]

use std::sync::OnceLock;

use jnd_model::{ColorType, Image};
use jndenc::settings::Preset;
use jndenc::target::Target;
use jndenc::decode::decode;
use jndenc::Models;
use jndenc::settings::{DeciderKind, Mode};
use jndenc::{DecodeOptions, EncodePlan, Settings};
use libfuzzer_sys::fuzz_target;

/// The models, loaded once for the whole run (each plan clones them).
fn models() -> &'static Models {
    static MODELS: OnceLock<Models> = OnceLock::new();
    MODELS.get_or_init(Models::default)
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
    let (min, max) = (lo % 100 + 1, hi % 100 + 1);
    let mode = Mode::Auto {
        target: Target::preset(if mode & 64 == 0 { Preset::HumanFirstJnd } else { Preset::VisuallyLossless })
            .expect("a preset"),
        decider: if mode & 128 == 0 { DeciderKind::Teacher } else { DeciderKind::Model },
        min_quality: Some(min),
        max_quality: Some(max),
        block: (mode >> 1) % 5 + 1,
        prior: mode & 32 == 0,
    };
    let Ok(plan) = EncodePlan::new(Settings { mode, ..Settings::default() }, models()) else {
        // Only an inverted range may be refused.
        assert!(min > max);
        return;
    };
    let result = plan.encode_pixels(image, jndenc::Names::pixels()).expect("a valid plan encodes any picture");
    assert!((min..=max).contains(&result.report.quality));
    let back = decode(&result.bytes, &DecodeOptions::default()).expect("output decodes");
    assert_eq!((back.width(), back.height()), (width, height));
});
