//! Auto-quality cost: the whole JND search (prepare, encode, decode and judge every candidate) against
//! one plain encode of the same image (mozjpeg at quality 75, jpegli at its quality 75 = distance
//! 2.35), side by side in one run so machine noise cancels in the ratio. Prints a table.
//!
//! ```sh
//! cargo bench -p encoder --bench auto_quality            # JPEG on 4 validation photos
//! JND_BENCH_HEIF=1 cargo bench -p encoder --bench auto_quality   # HEIF too (slow: x265)
//! ```
//!
//! Photos: the validation photos 004, 009, 014, 019 of `../shared/data/photos/wikipedia/` (about 1 MP,
//! never trained on) when present, else the fixture photo tiled to 1276x850.

use std::path::Path;
use std::time::Instant;

use jndenc::auto::{AutoOptions, ModelDecider, encode_at_jnd};
use jndenc::codec::{Codec, Heif, HeifOptions, JpegOptions, Jpegli, MozJpeg};
use jndenc::settings::Preset;
use jndenc::target::Target;
use jndenc::{ColorType, Image};

fn load(name: &str) -> (String, Image) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let rgb = match image::open(root.join("../shared/data/photos/wikipedia").join(name)) {
        Ok(img) => img.to_rgb8(),
        Err(_) => {
            let tile = image::open(root.join("fixtures/photo.png")).expect("fixtures/photo.png").to_rgb8();
            image::RgbImage::from_fn(1276, 850, |x, y| *tile.get_pixel(x % tile.width(), y % tile.height()))
        }
    };
    let (w, h) = rgb.dimensions();
    (name.to_string(), Image::new(w, h, ColorType::Rgb, rgb.into_raw()).expect("valid image"))
}

fn median_seconds(runs: usize, mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[runs / 2]
}

fn main() {
    let jpeg = MozJpeg::new(JpegOptions::default());
    let jpegli = Jpegli::new(JpegOptions::default());
    let heif = Heif::new(HeifOptions::default());
    let with_heif = std::env::var_os("JND_BENCH_HEIF").is_some();
    println!(
        "| image | codec | MP | one encode (ms) | one encode (ms/MP) | auto (ms) | auto s/MP | candidates | auto / one encode | prepare | encode | decode | judge (ms) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for name in ["004.png", "009.png", "014.png", "019.png"] {
        let (name, image) = load(name);
        let mp = image.pixel_count() as f64 / 1e6;
        let mut codecs: Vec<(&str, &dyn Codec)> = vec![("mozjpeg", &jpeg), ("jpegli", &jpegli)];
        if with_heif {
            codecs.push(("heif", &heif));
        }
        for (codec_name, codec) in codecs {
            let options = AutoOptions::for_format(codec.format());
            let decider =
                ModelDecider::embedded(Target::preset(Preset::HumanFirstJnd).expect("a preset"), codec)
                    .expect("embedded model");
            let one = median_seconds(3, || {
                codec.encode(&image, 75).expect("encode");
            });
            let mut last = None;
            let auto = median_seconds(3, || {
                last = Some(encode_at_jnd(&image, codec, &decider, &options).expect("auto"));
            });
            let r = last.expect("ran");
            println!(
                "| {name} | {codec_name} | {mp:.2} | {:.0} | {:.0} | {:.0} | {:.2} | {} | {:.1} | {:.0} | {:.0} | {:.0} | {:.0} |",
                one * 1e3,
                one * 1e3 / mp,
                auto * 1e3,
                auto / mp,
                r.probes.len(),
                auto / one,
                r.times.prepare.as_secs_f64() * 1e3,
                r.times.encode.as_secs_f64() * 1e3,
                r.times.decode.as_secs_f64() * 1e3,
                r.times.judge.as_secs_f64() * 1e3,
            );
        }
    }
}
