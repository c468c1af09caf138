//! JND ladders: an image encoded at every quality of a codec, decoded, and measured against the
//! original. Butteraugli (max-norm and 3-norm, from one comparison) is measured at every rung, and
//! SSIMULACRA 2 (with the original prepared once, `Ssimulacra2Ref`) at the rungs asked for: every
//! rung for jpegli, auto mode's codec, whose operating points pair the two metrics; every tenth for
//! the others.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use jnd_model::Image;
use jnd_model::metrics::{ButteraugliRef, Ssimulacra2Ref};
use jndenc::codec::{Codec, Heif, HeifOptions, JpegOptions, Jpegli, MozJpeg};

use crate::{Result, format_error, io_error};

/// The encodings ladders are computed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LadderCodec {
    /// JPEG as jndenc writes it: mozjpeg, progressive, trellis, optimised Huffman, Annex K tables,
    /// 4:2:0.
    Mozjpeg,
    /// JPEG as MCL-JCI was made: libjpeg-turbo's defaults (jndenc `-revert`): baseline, no trellis,
    /// standard Huffman tables, Annex K tables, 4:2:0. Byte-identical to Debian's `cjpeg`.
    Baseline,
    /// HEVC intra in HEIF: libheif 1.15 with x265, 4:2:0, libheif's default preset.
    Heif,
    /// JPEG as jndenc's auto mode writes it by default: jpegli (libjxl 0.10.2), progressive level 2,
    /// adaptive quantisation, 4:2:0, on jpegli's quality scale (a butteraugli-distance grid).
    Jpegli,
    /// The same at 4:4:4, which auto mode writes when 4:2:0 cannot reach the target or 4:4:4 reaches
    /// it in fewer bytes.
    Jpegli444,
}

impl LadderCodec {
    /// Every ladder codec.
    pub const ALL: [LadderCodec; 5] = [
        LadderCodec::Mozjpeg,
        LadderCodec::Baseline,
        LadderCodec::Heif,
        LadderCodec::Jpegli,
        LadderCodec::Jpegli444,
    ];

    /// Whether it writes JPEG (the JPEG decision margin and the JPEG patch grid apply).
    pub fn is_jpeg(self) -> bool {
        self != LadderCodec::Heif
    }

    /// Short name used in files and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            LadderCodec::Mozjpeg => "mozjpeg",
            LadderCodec::Baseline => "baseline",
            LadderCodec::Heif => "heif",
            LadderCodec::Jpegli => "jpegli",
            LadderCodec::Jpegli444 => "jpegli444",
        }
    }

    /// Parses [`LadderCodec::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The settings, written into cache keys so a change of settings never reuses old ladders.
    pub fn settings(self) -> &'static str {
        match self {
            LadderCodec::Mozjpeg => {
                "mozjpeg-sys 2.2 JCP_MAX_COMPRESSION, quant table 0, 4:2:0, progressive, trellis"
            }
            LadderCodec::Baseline => {
                "mozjpeg-sys 2.2 JCP_FASTEST, quant table 0, 4:2:0, baseline, no trellis"
            }
            LadderCodec::Heif => "libheif 1.15 x265, 4:2:0, default preset",
            LadderCodec::Jpegli => {
                "jpegli-sys 0.1.0+0.10.2, jpegli quality scale, 4:2:0, progressive level 2, adaptive quantisation"
            }
            LadderCodec::Jpegli444 => {
                "jpegli-sys 0.1.0+0.10.2, jpegli quality scale, 4:4:4, progressive level 2, adaptive quantisation"
            }
        }
    }

    /// The codec itself (metadata is irrelevant to ladders and stripped).
    pub fn codec(self) -> Box<dyn Codec> {
        let jpeg = JpegOptions { keep_icc: false, keep_exif: false, ..JpegOptions::default() };
        match self {
            LadderCodec::Mozjpeg => Box::new(MozJpeg::new(jpeg)),
            LadderCodec::Baseline => Box::new(MozJpeg::new(JpegOptions {
                revert: true,
                progressive: false,
                trellis: false,
                optimize_coding: false,
                ..jpeg
            })),
            LadderCodec::Heif => Box::new(Heif::new(HeifOptions {
                keep_icc: false,
                keep_exif: false,
                ..HeifOptions::default()
            })),
            LadderCodec::Jpegli => Box::new(Jpegli::new(jpeg)),
            LadderCodec::Jpegli444 => {
                Box::new(Jpegli::new(JpegOptions { sampling: Some(vec![(1, 1)]), ..jpeg }))
            }
        }
    }

    /// The qualities of a full ladder: JPEG 1..=100, HEIF 0..=100 in steps of 2.
    pub fn qualities(self) -> Vec<u8> {
        match self {
            LadderCodec::Mozjpeg | LadderCodec::Baseline | LadderCodec::Jpegli | LadderCodec::Jpegli444 => {
                (1..=100).collect()
            }
            LadderCodec::Heif => (0..=100).step_by(2).collect(),
        }
    }

    /// Where SSIMULACRA 2 is measured by default: every rung of jpegli's ladders (auto mode judges
    /// both metrics there), every 10 quality steps of the others.
    pub fn ssimulacra2_qualities(self) -> Vec<u8> {
        match self {
            LadderCodec::Jpegli | LadderCodec::Jpegli444 => self.qualities(),
            _ => (10..=100).step_by(10).collect(),
        }
    }

    /// Whether it is jpegli (either sampling).
    pub fn is_jpegli(self) -> bool {
        matches!(self, LadderCodec::Jpegli | LadderCodec::Jpegli444)
    }
}

/// One rung of a ladder.
#[derive(Debug, Clone, PartialEq)]
pub struct Rung {
    /// The codec's quality.
    pub quality: u8,
    /// Encoded size in bytes.
    pub bytes: usize,
    /// Butteraugli max-norm of the decoded candidate against the original.
    pub butteraugli: f64,
    /// Butteraugli 3-norm of the same comparison.
    pub butteraugli_3norm: f64,
    /// SSIMULACRA 2, where measured.
    pub ssimulacra2: Option<f64>,
}

/// A ladder of one image and codec, rungs sorted by quality.
#[derive(Debug, Clone, PartialEq)]
pub struct Ladder {
    /// The image's file name (e.g. `001.png`).
    pub image: String,
    /// The codec.
    pub codec: LadderCodec,
    /// Rungs by increasing quality.
    pub rungs: Vec<Rung>,
}

impl Ladder {
    /// The rung at `quality`, if measured.
    pub fn rung(&self, quality: u8) -> Option<&Rung> {
        self.rungs.iter().find(|r| r.quality == quality)
    }
}

/// A ladder of `x.png` from `(quality, bytes, 3-norm (also the max-norm), SSIMULACRA 2)` rungs, for
/// tests.
#[cfg(test)]
pub(crate) fn test_ladder(codec: LadderCodec, rungs: &[(u8, usize, f64, f64)]) -> Ladder {
    Ladder {
        image: "x.png".into(),
        codec,
        rungs: rungs
            .iter()
            .map(|&(quality, bytes, d, s)| Rung {
                quality,
                bytes,
                butteraugli: d,
                butteraugli_3norm: d,
                ssimulacra2: Some(s),
            })
            .collect(),
    }
}

/// Measures a ladder of `image` at `qualities`, with SSIMULACRA 2 at `ssim2_at`.
pub fn compute(
    name: &str,
    image: &Image,
    codec: LadderCodec,
    qualities: &[u8],
    ssim2_at: &[u8],
    keep_decoded: Option<&Path>,
) -> Result<Ladder> {
    let encoder = codec.codec();
    let reference = ButteraugliRef::new(image)?;
    let ssim2_reference = if ssim2_at.is_empty() { None } else { Some(Ssimulacra2Ref::new(image)?) };
    let mut rungs = Vec::with_capacity(qualities.len());
    for &quality in qualities {
        let encoded = encoder.encode(image, quality)?;
        let decoded = encoder.decode(&encoded.bytes)?;
        let decoded = if decoded.color() == image.color() { decoded } else { decoded.to_rgb() };
        if let Some(dir) = keep_decoded {
            let path = decoded_path(dir, name, codec, quality);
            write_ppm(&path, &decoded)?;
        }
        let scores = reference.compare(&decoded)?;
        let ssimulacra2 = match &ssim2_reference {
            Some(prepared) if ssim2_at.contains(&quality) => Some(prepared.compare(&decoded)?),
            _ => None,
        };
        rungs.push(Rung {
            quality,
            bytes: encoded.bytes.len(),
            butteraugli: scores.max_norm,
            butteraugli_3norm: scores.pnorm3,
            ssimulacra2,
        });
    }
    rungs.sort_by_key(|r| r.quality);
    Ok(Ladder { image: name.to_string(), codec, rungs })
}

/// Where [`compute`] keeps the decoded candidate of `name` at `quality` (a binary PPM/PGM).
pub fn decoded_path(dir: &Path, name: &str, codec: LadderCodec, quality: u8) -> PathBuf {
    let stem = name.trim_end_matches(".png");
    dir.join(format!("{stem}-{}-q{quality:03}.pnm", codec.name()))
}

/// Writes `image` as binary PPM (RGB) or PGM (gray), atomically.
fn write_ppm(path: &Path, image: &Image) -> Result<()> {
    let magic = if image.color() == jnd_model::ColorType::Gray { "P5" } else { "P6" };
    let mut bytes = format!("{magic}\n{} {}\n255\n", image.width(), image.height()).into_bytes();
    bytes.extend_from_slice(image.pixels());
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, &bytes).map_err(|e| io_error(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| io_error(path, e))
}

/// FNV-1a over the pixels, the dimensions and the codec settings: the cache key of a ladder.
pub fn cache_key(image: &Image, codec: LadderCodec, ssim2_at: &[u8]) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    };
    eat(&image.width().to_le_bytes());
    eat(&image.height().to_le_bytes());
    eat(image.pixels());
    eat(codec.settings().as_bytes());
    eat(ssim2_at);
    hash
}

/// [`compute`] with an on-disk cache: `cache/<image>-<codec>-<key>.csv`.
///
/// With `keep_decoded`, a missing ladder is computed with its decoded candidates kept there (see
/// [`decoded_path`]); a cached ladder is returned as is.
pub fn compute_cached(
    name: &str,
    image: &Image,
    codec: LadderCodec,
    cache: &Path,
    keep_decoded: Option<&Path>,
) -> Result<Ladder> {
    let ssim2_at = codec.ssimulacra2_qualities();
    let key = cache_key(image, codec, &ssim2_at);
    let stem = name.trim_end_matches(".png");
    let path: PathBuf = cache.join(format!("{stem}-{}-{key:016x}.csv", codec.name()));
    if let Ok(text) = std::fs::read_to_string(&path)
        && let Ok(mut ladders) = read_csv(&text, &path.display().to_string())
        && let Some(ladder) = ladders.pop()
    {
        return Ok(ladder);
    }
    let ladder = compute(name, image, codec, &codec.qualities(), &ssim2_at, keep_decoded)?;
    std::fs::create_dir_all(cache).map_err(|e| io_error(cache, e))?;
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, to_csv(std::slice::from_ref(&ladder))).map_err(|e| io_error(&tmp, e))?;
    std::fs::rename(&tmp, &path).map_err(|e| io_error(&path, e))?;
    Ok(ladder)
}

/// The CSV header of ladder files.
pub const CSV_HEADER: &str = "image,codec,quality,bytes,butteraugli,butteraugli_3norm,ssimulacra2";

/// Ladders as CSV (one row per rung; an empty `ssimulacra2` where not measured).
pub fn to_csv(ladders: &[Ladder]) -> String {
    let mut out = String::from(CSV_HEADER);
    out.push('\n');
    for ladder in ladders {
        for r in &ladder.rungs {
            let s2 = r.ssimulacra2.map(|v| format!("{v:.4}")).unwrap_or_default();
            let _ = writeln!(
                out,
                "{},{},{},{},{:.5},{:.5},{}",
                ladder.image,
                ladder.codec.name(),
                r.quality,
                r.bytes,
                r.butteraugli,
                r.butteraugli_3norm,
                s2
            );
        }
    }
    out
}

/// Reads ladders written by [`to_csv`], grouped by (image, codec) in file order.
pub fn read_csv(text: &str, file: &str) -> Result<Vec<Ladder>> {
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, header)) if header.trim() == CSV_HEADER => {}
        _ => return Err(format_error(file, 1, format!("expected the header '{CSV_HEADER}'"))),
    }
    let mut ladders: Vec<Ladder> = Vec::new();
    for (i, line) in lines {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split(',').collect();
        if f.len() != 7 {
            return Err(format_error(file, n, format!("expected 7 fields, found {}", f.len())));
        }
        let codec = LadderCodec::from_name(f[1])
            .ok_or_else(|| format_error(file, n, format!("unknown codec '{}'", f[1])))?;
        let num = |j: usize, what: &str| -> Result<f64> {
            f[j].parse::<f64>()
                .map_err(|_| format_error(file, n, format!("{what} '{}' is not a number", f[j])))
        };
        let quality = f[2]
            .parse::<u8>()
            .ok()
            .filter(|&q| q <= 100)
            .ok_or_else(|| format_error(file, n, format!("quality '{}' is not 0..=100", f[2])))?;
        let bytes = f[3].parse::<usize>().map_err(|_| format_error(file, n, format!("bytes '{}'", f[3])))?;
        let rung = Rung {
            quality,
            bytes,
            butteraugli: num(4, "butteraugli")?,
            butteraugli_3norm: num(5, "butteraugli_3norm")?,
            ssimulacra2: if f[6].is_empty() { None } else { Some(num(6, "ssimulacra2")?) },
        };
        match ladders.last_mut() {
            Some(l) if l.image == f[0] && l.codec == codec => l.rungs.push(rung),
            _ => ladders.push(Ladder { image: f[0].to_string(), codec, rungs: vec![rung] }),
        }
    }
    for l in &mut ladders {
        l.rungs.sort_by_key(|r| r.quality);
    }
    Ok(ladders)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jnd_model::ColorType;

    fn photo() -> Image {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/photo.png");
        let bytes = std::fs::read(path).unwrap();
        jndenc::decode::decode(&bytes, &jndenc::DecodeOptions::default()).unwrap()
    }

    #[test]
    fn ladder_measures_real_candidates_and_round_trips_through_csv() {
        let image = photo();
        let ladder = compute("photo.png", &image, LadderCodec::Baseline, &[20, 50, 90], &[50], None).unwrap();
        assert_eq!(ladder.rungs.len(), 3);
        let (lo, hi) = (&ladder.rungs[0], &ladder.rungs[2]);
        assert!(lo.bytes < hi.bytes && lo.butteraugli > hi.butteraugli, "{ladder:?}");
        assert!(ladder.rung(50).unwrap().ssimulacra2.is_some() && lo.ssimulacra2.is_none());
        let csv = to_csv(std::slice::from_ref(&ladder));
        let back = read_csv(&csv, "mem").unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].rungs.len(), 3);
        assert!((back[0].rungs[1].butteraugli - ladder.rungs[1].butteraugli).abs() < 1e-4);
        // The baseline ladder is what cjpeg writes: its bytes match jndenc -revert at that quality.
        let direct = LadderCodec::Baseline.codec().encode(&image, 50).unwrap();
        assert_eq!(direct.bytes.len(), ladder.rung(50).unwrap().bytes);
    }

    #[test]
    fn cache_is_reused_and_keyed_by_content() {
        let dir = tempfile::tempdir().unwrap();
        let pixels: Vec<u8> = (0..64 * 48 * 3).map(|i| (i * 7 % 251) as u8).collect();
        let small = Image::new(64, 48, ColorType::Rgb, pixels).unwrap();
        let a = compute_cached("x.png", &small, LadderCodec::Baseline, dir.path(), None).unwrap();
        assert_eq!(a.rungs.len(), 100);
        let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(files.len(), 1);
        let b = compute_cached("x.png", &small, LadderCodec::Baseline, dir.path(), None).unwrap();
        assert_eq!(a.rungs.len(), b.rungs.len());
        assert!(
            cache_key(&small, LadderCodec::Baseline, &[]) != cache_key(&small, LadderCodec::Mozjpeg, &[])
        );
    }

    #[test]
    fn malformed_csv_names_line_and_field() {
        let bad = format!("{CSV_HEADER}\n001.png,baseline,10,100,1.0,0.5,\n001.png,baseline,x,1,1,1,\n");
        let err = read_csv(&bad, "l.csv").unwrap_err().to_string();
        assert!(err.contains("l.csv:3") && err.contains("quality 'x'"), "{err}");
        assert!(read_csv("nope\n", "l.csv").unwrap_err().to_string().contains("header"));
        let short = format!("{CSV_HEADER}\n001.png,baseline,10\n");
        assert!(read_csv(&short, "l.csv").unwrap_err().to_string().contains("7 fields"));
        let codec = format!("{CSV_HEADER}\n001.png,webp,10,1,1,1,\n");
        assert!(read_csv(&codec, "l.csv").unwrap_err().to_string().contains("unknown codec"));
    }
}
