//! Codecs compared at equal quality, from their ladders: for each photo, the bytes a codec needs to
//! reach a SSIMULACRA 2 score or a butteraugli 3-norm distance (interpolated in log-bytes between the
//! two rungs that bracket it), as a ratio to a reference codec's bytes at the same level, summarised as
//! the geometric mean over the photos where both codecs reach it; and the bytes of the teacher's own
//! per-photo choice at an operating point (the lowest teacher-lossless rung), summed over the photos.
//! This is how auto mode's default JPEG codec is chosen (on the training photos) and reported (on the
//! validation photos).

use std::fmt::Write as _;

use crate::ladder::{Ladder, LadderCodec};
use crate::split::{Split, split_of};
use crate::teacher::Teacher;

/// A quality measure along a ladder.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Level {
    /// SSIMULACRA 2 at least this (higher is better; measured at sparse rungs).
    Ssimulacra2(f64),
    /// butteraugli 3-norm at most this (lower is better; measured at every rung).
    ThreeNorm(f64),
}

impl Level {
    fn label(self) -> String {
        match self {
            Level::Ssimulacra2(s) => format!("SSIMULACRA 2 = {s}"),
            Level::ThreeNorm(d) => format!("3-norm = {d}"),
        }
    }

    /// How far a rung is past the level (>= 0 once reached), if the rung measures it.
    fn excess(self, rung: &crate::ladder::Rung) -> Option<f64> {
        match self {
            Level::Ssimulacra2(s) => rung.ssimulacra2.map(|v| v - s),
            Level::ThreeNorm(d) => Some(d - rung.butteraugli_3norm),
        }
    }
}

/// The levels of the comparison tables.
pub const LEVELS: [Level; 8] = [
    Level::Ssimulacra2(60.0),
    Level::Ssimulacra2(70.0),
    Level::Ssimulacra2(80.0),
    Level::Ssimulacra2(85.0),
    Level::ThreeNorm(2.295),
    Level::ThreeNorm(1.8),
    Level::ThreeNorm(1.4),
    Level::ThreeNorm(1.0),
];

/// The bytes `ladder` needs to reach `level`: along the rungs in increasing size, the first that
/// reaches it, interpolated in log-bytes against the last measured rung before it. `None` when no
/// rung reaches it or the smallest measured rung already does (the level is outside the ladder).
pub fn bytes_at(ladder: &Ladder, level: Level) -> Option<f64> {
    let mut rungs: Vec<(f64, f64)> =
        ladder.rungs.iter().filter_map(|r| level.excess(r).map(|e| ((r.bytes as f64).ln(), e))).collect();
    rungs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let first = rungs.iter().position(|&(_, e)| e >= 0.0)?;
    if first == 0 {
        return None;
    }
    let ((b0, e0), (b1, e1)) = (rungs[first - 1], rungs[first]);
    let t = if e1 > e0 { -e0 / (e1 - e0) } else { 1.0 };
    Some((b0 + t.clamp(0.0, 1.0) * (b1 - b0)).exp())
}

/// The geometric mean of `codec`'s bytes over `reference`'s at `level`, over the photos of `split`
/// where both reach it, and how many photos that was.
pub fn ratio_at(
    ladders: &[Ladder],
    codec: LadderCodec,
    reference: LadderCodec,
    split: Split,
    level: Level,
) -> (f64, usize) {
    let mut logs = Vec::new();
    for a in ladders.iter().filter(|l| l.codec == codec && split_of(&l.image) == split) {
        let Some(b) = ladders.iter().find(|l| l.codec == reference && l.image == a.image) else {
            continue;
        };
        if let (Some(x), Some(y)) = (bytes_at(a, level), bytes_at(b, level)) {
            logs.push((x / y).ln());
        }
    }
    let n = logs.len();
    let mean = if n == 0 { f64::NAN } else { (logs.iter().sum::<f64>() / n as f64).exp() };
    (mean, n)
}

/// The total bytes of the teacher's per-photo choice for `codec` on `split`, over the photos where
/// every codec of `codecs` has a lossless rung (so the totals are over the same photos).
pub fn teacher_total(
    ladders: &[Ladder],
    codec: LadderCodec,
    codecs: &[LadderCodec],
    split: Split,
    teacher: Teacher,
) -> (usize, usize) {
    let photos: Vec<&str> = ladders
        .iter()
        .filter(|l| l.codec == codec && split_of(&l.image) == split)
        .map(|l| l.image.as_str())
        .filter(|image| {
            codecs.iter().all(|&c| {
                ladders.iter().any(|l| l.codec == c && l.image == *image && teacher.chosen(l).is_some())
            })
        })
        .collect();
    let total = photos
        .iter()
        .filter_map(|image| ladders.iter().find(|l| l.codec == codec && l.image == *image))
        .filter_map(|l| teacher.chosen(l).map(|r| r.bytes))
        .sum();
    (total, photos.len())
}

/// The markdown report: bytes at equal quality against `reference`, and the teacher's own choices at
/// the two operating points, for each codec in `codecs` on `split`.
pub fn report(ladders: &[Ladder], codecs: &[LadderCodec], reference: LadderCodec, split: Split) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Bytes at equal quality, {} photos: geometric mean over photos of bytes / {}'s bytes (photos \
         where both reach the level).\n",
        split.name(),
        reference.name()
    );
    let _ = write!(out, "| at equal |");
    for c in codecs {
        let _ = write!(out, " {} / {} |", c.name(), reference.name());
    }
    let _ = write!(out, "\n|---|");
    for _ in codecs {
        let _ = write!(out, "---|");
    }
    out.push('\n');
    for level in LEVELS {
        let _ = write!(out, "| {} |", level.label());
        for &c in codecs {
            let (ratio, n) = ratio_at(ladders, c, reference, split, level);
            let _ = write!(out, " {ratio:.3} ({n}) |");
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "\nThe teacher's own per-photo choice (lowest quality with 3-norm at most tau, monotone envelope), \
         total bytes over the photos where every codec has one:\n"
    );
    let _ = writeln!(out, "| operating point | codec | photos | total bytes | / {} |", reference.name());
    let _ = writeln!(out, "|---|---|---|---|---|");
    let mut all = codecs.to_vec();
    all.push(reference);
    for (name, teacher) in
        [("human-first-jnd (2.295)", Teacher::HUMAN_FIRST_JND), ("strict (1.0)", Teacher::STRICT)]
    {
        let (reference_total, _) = teacher_total(ladders, reference, &all, split, teacher);
        for &c in &all {
            let (total, n) = teacher_total(ladders, c, &all, split, teacher);
            let _ = writeln!(
                out,
                "| {name} | {} | {n} | {total} | {:.3} |",
                c.name(),
                total as f64 / reference_total.max(1) as f64
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ladder::Rung;

    fn rung(quality: u8, bytes: usize, three_norm: f64, ssim2: Option<f64>) -> Rung {
        Rung {
            quality,
            bytes,
            butteraugli: three_norm * 2.0,
            butteraugli_3norm: three_norm,
            ssimulacra2: ssim2,
        }
    }

    #[test]
    fn bytes_at_interpolates_in_log_bytes_between_the_bracketing_rungs() {
        let ladder = Ladder {
            image: "001.png".into(),
            codec: LadderCodec::Mozjpeg,
            rungs: vec![
                rung(10, 1000, 4.0, Some(40.0)),
                rung(20, 4000, 2.0, Some(60.0)),
                rung(30, 16000, 1.0, Some(80.0)),
            ],
        };
        // Half-way in distance between 4000 and 16000 bytes is their geometric mean.
        let b = bytes_at(&ladder, Level::ThreeNorm(1.5)).unwrap();
        assert!((b - 8000.0).abs() < 1e-6, "{b}");
        let s = bytes_at(&ladder, Level::Ssimulacra2(70.0)).unwrap();
        assert!((s - 8000.0).abs() < 1e-6, "{s}");
        assert!(bytes_at(&ladder, Level::ThreeNorm(0.5)).is_none(), "never reached");
        assert!(bytes_at(&ladder, Level::ThreeNorm(5.0)).is_none(), "below the ladder");
    }

    #[test]
    fn ratio_of_a_codec_that_is_uniformly_smaller() {
        let make = |codec, scale: f64| Ladder {
            image: "001.png".into(),
            codec,
            rungs: vec![
                rung(10, (1000.0 * scale) as usize, 4.0, None),
                rung(20, (4000.0 * scale) as usize, 2.0, None),
            ],
        };
        let ladders = vec![make(LadderCodec::Mozjpeg, 1.0), make(LadderCodec::Jpegli, 0.9)];
        let (ratio, n) = ratio_at(
            &ladders,
            LadderCodec::Jpegli,
            LadderCodec::Mozjpeg,
            Split::Train,
            Level::ThreeNorm(3.0),
        );
        assert_eq!(n, 1);
        assert!((ratio - 0.9).abs() < 1e-3, "{ratio}");
    }
}
