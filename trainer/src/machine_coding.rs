//! Machine-vision coding evaluation: rate against relative classification accuracy (RCA) on CIFAR-10
//! for uniform JPEG, DMV-JND per-block quantisation and pixel-JND per-block quantisation, all written by
//! the same coefficient path ([`jndenc::codec::adaptive`]) so only the map differs.

use std::fmt::Write as _;

use jnd_model::dmvjnd::{DmvJnd, IMAGE_BYTES, PIXELS, SIDE};
use jnd_model::{ColorType, Image, JndMap, PixelJndModel};
use jndenc::codec::adaptive::{AdaptiveOptions, ChromaSampling, encode_adaptive};
use rayon::prelude::*;

use crate::cifar::CifarSet;
use crate::{Error, Result};

/// The three ways of choosing per-block quantisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// One table for every block (a zero map).
    Uniform,
    /// Per-block steps from the DMV-JND map.
    DmvJnd,
    /// Per-block steps from the pixel-wise JND map (Wu 2017).
    PixelJnd,
}

impl Method {
    /// All three, in table order.
    pub const ALL: [Method; 3] = [Method::Uniform, Method::DmvJnd, Method::PixelJnd];

    /// Name for tables and plots.
    pub const fn name(self) -> &'static str {
        match self {
            Method::Uniform => "uniform JPEG",
            Method::DmvJnd => "DMV-JND per-block",
            Method::PixelJnd => "pixel-JND per-block",
        }
    }

    const fn colour(self) -> &'static str {
        match self {
            Method::Uniform => "#444444",
            Method::DmvJnd => "#d62728",
            Method::PixelJnd => "#1f77b4",
        }
    }
}

/// One point of a rate-RCA curve.
#[derive(Debug, Clone, PartialEq)]
pub struct RatePoint {
    /// How blocks were quantised.
    pub method: Method,
    /// Base quality.
    pub quality: u8,
    /// Mean bits per pixel of the entropy-coded data (scan bytes only: no headers or tables).
    pub bpp: f64,
    /// Mean bits per pixel of the whole files.
    pub file_bpp: f64,
    /// RCA of each classifier against its predictions on the uncompressed images.
    pub rca: [f64; 4],
    /// Mean PSNR (dB, 8-bit RGB) of the decoded images.
    pub psnr: f64,
}

impl RatePoint {
    /// Mean RCA over the four classifiers.
    pub fn mean_rca(&self) -> f64 {
        self.rca.iter().sum::<f64>() / 4.0
    }
}

/// Bytes of entropy-coded data in a JPEG file: from the end of each SOS header to the next marker
/// that is neither a stuffed `0xFF00` nor a restart marker.
pub fn entropy_coded_bytes(jpeg: &[u8]) -> usize {
    let mut total = 0;
    let mut pos = 2;
    while pos + 4 <= jpeg.len() {
        if jpeg[pos] != 0xFF {
            pos += 1;
            continue;
        }
        let marker = jpeg[pos + 1];
        if marker == 0xFF {
            pos += 1;
            continue;
        }
        if marker == 0xD9 {
            break;
        }
        let length = usize::from(u16::from_be_bytes([jpeg[pos + 2], jpeg[pos + 3]]));
        pos += 2 + length;
        if marker == 0xDA {
            let start = pos;
            while pos + 1 < jpeg.len() && (jpeg[pos] != 0xFF || matches!(jpeg[pos + 1], 0x00 | 0xD0..=0xD7)) {
                pos += 1;
            }
            total += pos - start;
        }
    }
    total
}

fn to_image(planar: &[u8]) -> Result<Image> {
    let mut rgb = Vec::with_capacity(IMAGE_BYTES);
    for i in 0..PIXELS {
        for c in 0..3 {
            rgb.push(planar[c * PIXELS + i]);
        }
    }
    Ok(Image::new(SIDE as u32, SIDE as u32, ColorType::Rgb, rgb)?)
}

fn to_planar(image: &Image) -> Vec<u8> {
    let mut planar = vec![0u8; IMAGE_BYTES];
    for (i, p) in image.pixels().chunks_exact(3).enumerate() {
        for c in 0..3 {
            planar[c * PIXELS + i] = p[c];
        }
    }
    planar
}

fn psnr(a: &[u8], b: &[u8]) -> f64 {
    let mse =
        a.iter().zip(b).map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2)).sum::<f64>() / a.len() as f64;
    if mse == 0.0 { 100.0 } else { 10.0 * (255.0f64 * 255.0 / mse).log10() }
}

/// Runs the sweep: every image of `set` encoded at every quality by every method, decoded and
/// classified by `model`'s four classifiers.
pub fn sweep(
    model: &DmvJnd,
    set: &CifarSet,
    qualities: &[u8],
    mut progress: impl FnMut(&RatePoint),
) -> Result<Vec<RatePoint>> {
    if set.is_empty() {
        return Err(Error::Insufficient("no images".into()));
    }
    let n = set.len();
    let reference = model.classify(&set.images)?;
    let images: Vec<Image> = (0..n).map(|i| to_image(set.image(i))).collect::<Result<_>>()?;
    let machine: Vec<JndMap> = {
        let analysis = model.analyse(&set.images)?;
        let jnd = model.jnd(&set.images, &analysis.merged_cam)?;
        (0..n)
            .map(|i| {
                let tile = &jnd[i * IMAGE_BYTES..(i + 1) * IMAGE_BYTES];
                let values = (0..PIXELS)
                    .map(|p| {
                        (tile[p].abs() + tile[PIXELS + p].abs() + tile[2 * PIXELS + p].abs()) / 3.0 * 127.5
                    })
                    .collect();
                JndMap::new(SIDE as u32, SIDE as u32, values).map_err(Error::from)
            })
            .collect::<Result<_>>()?
    };
    let human: Vec<JndMap> = images.par_iter().map(|image| PixelJndModel::Wu2017.compute(image)).collect();
    let zero = JndMap::new(SIDE as u32, SIDE as u32, vec![0.0; PIXELS])?;
    let mut points = Vec::new();
    for &quality in qualities {
        for method in Method::ALL {
            let options =
                AdaptiveOptions { quality, table_set: 0, chroma: ChromaSampling::S420, progressive: false };
            let encoded: Vec<(usize, usize, Vec<u8>)> = (0..n)
                .into_par_iter()
                .map(|i| {
                    let map = match method {
                        Method::Uniform => &zero,
                        Method::DmvJnd => &machine[i],
                        Method::PixelJnd => &human[i],
                    };
                    let bytes = encode_adaptive(&images[i], map, &options)?.bytes;
                    let decoded = jndenc::decode::decode(&bytes, &jndenc::DecodeOptions::default())?;
                    Ok((entropy_coded_bytes(&bytes), bytes.len(), to_planar(&decoded)))
                })
                .collect::<Result<_>>()?;
            let decoded: Vec<u8> = encoded.iter().flat_map(|(_, _, p)| p.iter().copied()).collect();
            let labels = model.classify(&decoded)?;
            let rca = std::array::from_fn(|k| {
                reference[k].iter().zip(&labels[k]).filter(|(a, b)| a == b).count() as f64 / n as f64
            });
            let bits = |bytes: usize| bytes as f64 * 8.0 / PIXELS as f64;
            let point = RatePoint {
                method,
                quality,
                bpp: encoded.iter().map(|(scan, _, _)| bits(*scan)).sum::<f64>() / n as f64,
                file_bpp: encoded.iter().map(|(_, file, _)| bits(*file)).sum::<f64>() / n as f64,
                rca,
                psnr: (0..n)
                    .map(|i| psnr(set.image(i), &decoded[i * IMAGE_BYTES..(i + 1) * IMAGE_BYTES]))
                    .sum::<f64>()
                    / n as f64,
            };
            progress(&point);
            points.push(point);
        }
    }
    Ok(points)
}

/// The lowest rate at which a method's curve reaches `rca` (linear interpolation between the two sweep
/// points around the crossing, in order of rate), or `None` when it never does.
pub fn rate_at_rca(points: &[RatePoint], method: Method, rca: f64) -> Option<f64> {
    let mut curve: Vec<(f64, f64)> =
        points.iter().filter(|p| p.method == method).map(|p| (p.bpp, p.mean_rca())).collect();
    curve.sort_by(|a, b| a.0.total_cmp(&b.0));
    if curve.first()?.1 >= rca {
        return Some(curve[0].0);
    }
    curve.windows(2).find(|w| w[0].1 < rca && w[1].1 >= rca).map(|w| {
        let t = (rca - w[0].1) / (w[1].1 - w[0].1);
        w[0].0 + t * (w[1].0 - w[0].0)
    })
}

/// The Markdown table of the sweep and the savings at equal RCA.
pub fn table(points: &[RatePoint], levels: &[f64]) -> String {
    let mut out = String::from(
        "| method | quality | bpp (scan) | bpp (file) | PSNR dB | RCA alexnet | vgg | resnet | densenet | RCA mean |\n|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for p in points {
        let _ = writeln!(
            out,
            "| {} | {} | {:.3} | {:.3} | {:.2} | {:.2} % | {:.2} % | {:.2} % | {:.2} % | {:.2} % |",
            p.method.name(),
            p.quality,
            p.bpp,
            p.file_bpp,
            p.psnr,
            p.rca[0] * 100.0,
            p.rca[1] * 100.0,
            p.rca[2] * 100.0,
            p.rca[3] * 100.0,
            p.mean_rca() * 100.0
        );
    }
    out.push_str("\nRate (scan bpp) at equal mean RCA, and the saving against uniform JPEG:\n\n| RCA | uniform | DMV-JND | saving | pixel-JND | saving |\n|---|---|---|---|---|---|\n");
    let cell = |v: Option<f64>| v.map_or("not reached".to_string(), |v| format!("{v:.3}"));
    for &level in levels {
        let uniform = rate_at_rca(points, Method::Uniform, level);
        let dmv = rate_at_rca(points, Method::DmvJnd, level);
        let human = rate_at_rca(points, Method::PixelJnd, level);
        let saving = |v: Option<f64>| match (uniform, v) {
            (Some(u), Some(v)) if u > 0.0 => format!("{:.1} %", (1.0 - v / u) * 100.0),
            _ => "n/a".to_string(),
        };
        let _ = writeln!(
            out,
            "| {:.0} % | {} | {} | {} | {} | {} |",
            level * 100.0,
            cell(uniform),
            cell(dmv),
            saving(dmv),
            cell(human),
            saving(human)
        );
    }
    out
}

/// A self-contained SVG plot of mean RCA against scan bits per pixel, one line per method.
pub fn svg(points: &[RatePoint]) -> String {
    let (w, h, left, bottom, top, right) = (640.0, 420.0, 60.0, 50.0, 20.0, 20.0);
    let max_bpp = points.iter().map(|p| p.bpp).fold(0.0f64, f64::max).max(0.1) * 1.05;
    let min_rca = points.iter().map(RatePoint::mean_rca).fold(1.0f64, f64::min).min(0.9);
    let x = |bpp: f64| left + bpp / max_bpp * (w - left - right);
    let y = |rca: f64| top + (1.0 - (rca - min_rca) / (1.0 - min_rca)) * (h - top - bottom);
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    );
    let _ = writeln!(
        out,
        "<line x1=\"{left}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>",
        h - bottom,
        w - right,
        h - bottom
    );
    let _ = writeln!(
        out,
        "<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{}\" stroke=\"black\"/>",
        h - bottom
    );
    for i in 0..=5 {
        let bpp = max_bpp * f64::from(i) / 5.0;
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{bpp:.2}</text>",
            x(bpp),
            h - bottom + 16.0
        );
        let rca = min_rca + (1.0 - min_rca) * f64::from(i) / 5.0;
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{:.0} %</text>",
            left - 6.0,
            y(rca) + 4.0,
            rca * 100.0
        );
    }
    let _ = writeln!(
        out,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">bits per pixel (entropy-coded data)</text>",
        (w + left) / 2.0,
        h - 12.0
    );
    let _ = writeln!(
        out,
        "<text x=\"14\" y=\"{}\" transform=\"rotate(-90 14 {})\" text-anchor=\"middle\">mean RCA of 4 classifiers</text>",
        h / 2.0,
        h / 2.0
    );
    for (k, method) in Method::ALL.into_iter().enumerate() {
        let mut curve: Vec<&RatePoint> = points.iter().filter(|p| p.method == method).collect();
        curve.sort_by(|a, b| a.bpp.total_cmp(&b.bpp));
        let path: Vec<String> =
            curve.iter().map(|p| format!("{:.1},{:.1}", x(p.bpp), y(p.mean_rca()))).collect();
        let _ = writeln!(
            out,
            "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\" points=\"{}\"/>",
            method.colour(),
            path.join(" ")
        );
        for p in &curve {
            let _ = writeln!(
                out,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{}\"><title>{} q{}: {:.3} bpp, RCA {:.2} %</title></circle>",
                x(p.bpp),
                y(p.mean_rca()),
                method.colour(),
                method.name(),
                p.quality,
                p.bpp,
                p.mean_rca() * 100.0
            );
        }
        let ly = top + 16.0 * (k as f64 + 1.0);
        let _ = writeln!(
            out,
            "<line x1=\"{}\" y1=\"{ly}\" x2=\"{}\" y2=\"{ly}\" stroke=\"{}\" stroke-width=\"2\"/><text x=\"{}\" y=\"{}\">{}</text>",
            w - 200.0,
            w - 180.0,
            method.colour(),
            w - 174.0,
            ly + 4.0,
            method.name()
        );
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn scan_bytes_exclude_headers_and_count_every_scan() {
        // SOI, a 4-byte APP0, SOS with 6-byte header then 5 data bytes (one stuffed FF00 and a RST0),
        // a second SOS with 2 data bytes, EOI.
        let jpeg = [
            0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x01, 0x02, 0xFF, 0xDA, 0x00, 0x06, 1, 2, 3, 4, 0x11, 0xFF,
            0x00, 0xFF, 0xD0, 0xFF, 0xDA, 0x00, 0x03, 9, 0x22, 0x33, 0xFF, 0xD9,
        ];
        assert_eq!(entropy_coded_bytes(&jpeg), 5 + 2);
    }

    #[test]
    fn rate_at_rca_interpolates_the_crossing() {
        let point = |bpp, rca| RatePoint {
            method: Method::Uniform,
            quality: 1,
            bpp,
            file_bpp: bpp,
            rca: [rca; 4],
            psnr: 30.0,
        };
        let points = vec![point(1.0, 0.90), point(2.0, 0.98), point(3.0, 1.0)];
        assert!((rate_at_rca(&points, Method::Uniform, 0.99).unwrap() - 2.5).abs() < 1e-9);
        assert_eq!(rate_at_rca(&points, Method::Uniform, 0.5), Some(1.0));
        assert_eq!(rate_at_rca(&points, Method::DmvJnd, 0.5), None);
    }
}
