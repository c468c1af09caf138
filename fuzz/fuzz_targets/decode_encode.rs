//! Any byte string, decoded as each input format jndenc reads (the first byte picks the format or
//! sniffing), and every picture that decodes encoded at a fixed quality and decoded back.
#![no_main]

use jndenc::codec::{Codec, JpegOptions, MozJpeg};
use jndenc::decode::decode;
use jndenc::{DecodeOptions, InputFormat, Limits};
use libfuzzer_sys::fuzz_target;

const FORMATS: [Option<InputFormat>; 10] = [
    None,
    Some(InputFormat::Pnm),
    Some(InputFormat::Bmp),
    Some(InputFormat::Png),
    Some(InputFormat::Targa),
    Some(InputFormat::Gif),
    Some(InputFormat::Jpeg),
    Some(InputFormat::Heif),
    Some(InputFormat::Tiff),
    Some(InputFormat::WebP),
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else { return };
    let format = FORMATS[usize::from(selector) % FORMATS.len()];
    // Tighter than the defaults so each execution stays fast; the limit logic is the same.
    let limits = Limits { max_dimension: 4096, max_pixels: 1 << 22, max_memory: 64 << 20 };
    let Ok(image) = decode(bytes, &DecodeOptions { format, limits }) else { return };
    let encoded =
        MozJpeg::new(JpegOptions::default()).encode(&image, 75).expect("a decoded picture must encode");
    let back = decode(&encoded.bytes, &DecodeOptions::default()).expect("our own JPEG must decode");
    assert_eq!((back.width(), back.height()), (image.width(), image.height()));
});
