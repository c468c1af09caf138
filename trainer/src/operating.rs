//! The operating points' numbers, from the training photos' ladders: the SSIMULACRA 2 floor of each
//! preset with two bounds ([`fit_floor`]), and when auto mode should also search 4:4:4
//! ([`sampling_policy`]). Everything here reads cached ladders (jpegli at 4:2:0 and 4:4:4, every rung
//! with both metrics); validation photos are never read by the fits.

use crate::ladder::{Ladder, Rung};
use crate::prior::Metric;

/// Whether `rung` meets a 3-norm ceiling and, when given, a SSIMULACRA 2 floor (a rung without a
/// SSIMULACRA 2 fails a floor).
pub fn meets(rung: &Rung, distance: f64, floor: Option<f64>) -> bool {
    rung.butteraugli_3norm <= distance && floor.is_none_or(|f| rung.ssimulacra2.is_some_and(|s| s >= f))
}

/// The rung an exact search would write: the lowest quality that meets the bounds with every quality
/// above it meeting them too (the monotone envelope, as the teacher reads a ladder); `None` when even
/// the top rung fails.
pub fn chosen(ladder: &Ladder, distance: f64, floor: Option<f64>) -> Option<&Rung> {
    let mut answer = None;
    for rung in ladder.rungs.iter().rev() {
        if !meets(rung, distance, floor) {
            break;
        }
        answer = Some(rung);
    }
    answer
}

/// The median of `values` (the mean of the middle two for an even count).
pub fn median(values: &mut [f64]) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]) / 2.0),
    }
}

/// A preset's floor: the median over `ladders` of the SSIMULACRA 2 at the rung the 3-norm alone
/// chooses at `distance` (rungs without a SSIMULACRA 2 are skipped). With the floor at that median,
/// the floor binds on about half of the pictures and the ceiling on the other half.
pub fn fit_floor(ladders: &[&Ladder], distance: f64) -> Option<f64> {
    let mut at: Vec<f64> = ladders
        .iter()
        .filter_map(|l| {
            let q = Metric::Distance.true_quality(l, distance);
            l.rung(q).and_then(|r| r.ssimulacra2)
        })
        .collect();
    median(&mut at)
}

/// What a policy for the second sampling costs and gives on a set of pictures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SamplingOutcome {
    /// The quality from which 4:4:4 is searched too (101: only when 4:2:0 cannot reach the target).
    pub from_quality: u8,
    /// Pictures whose output meets the target.
    pub meeting: usize,
    /// Pictures where the 4:4:4 search runs.
    pub searched_444: usize,
    /// Pictures written at 4:4:4.
    pub written_444: usize,
    /// Total bytes written (a picture neither sampling can meet counts its 4:2:0 top rung).
    pub bytes: u64,
}

/// The outcome of "search 4:4:4 too when 4:2:0 cannot meet the target or its answer is at
/// `from_quality` or above; write the smaller that meets it" on pictures with both ladders
/// (`pairs`: 4:2:0, 4:4:4 of the same picture).
pub fn sampling_policy(
    pairs: &[(&Ladder, &Ladder)],
    distance: f64,
    floor: Option<f64>,
    from_quality: u8,
) -> SamplingOutcome {
    let mut out = SamplingOutcome { from_quality, meeting: 0, searched_444: 0, written_444: 0, bytes: 0 };
    for (l420, l444) in pairs {
        let a = chosen(l420, distance, floor);
        let try_444 = a.is_none_or(|r| r.quality >= from_quality);
        let b = if try_444 { chosen(l444, distance, floor) } else { None };
        out.searched_444 += usize::from(try_444);
        let pick = match (a, b) {
            (Some(a), Some(b)) if b.bytes < a.bytes => Some((b, true)),
            (Some(a), _) => Some((a, false)),
            (None, Some(b)) => Some((b, true)),
            (None, None) => None,
        };
        match pick {
            Some((rung, at_444)) => {
                out.meeting += 1;
                out.written_444 += usize::from(at_444);
                out.bytes += rung.bytes as u64;
            }
            None => out.bytes += l420.rungs.last().map_or(0, |r| r.bytes as u64),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ladder::{LadderCodec, test_ladder as ladder};

    #[test]
    fn both_bounds_choose_and_the_policy_writes_the_smaller_sampling() {
        let l420 =
            ladder(LadderCodec::Jpegli, &[(80, 100, 1.5, 70.0), (90, 150, 0.9, 82.0), (95, 200, 0.7, 86.0)]);
        let l444 = ladder(
            LadderCodec::Jpegli444,
            &[(80, 120, 1.2, 75.0), (90, 180, 0.8, 85.0), (95, 230, 0.6, 88.0)],
        );
        // The 3-norm alone stops at 90; the floor 84 moves 4:2:0 to 95 and 4:4:4 to 90.
        assert_eq!(chosen(&l420, 1.0, None).map(|r| r.quality), Some(90));
        assert_eq!(chosen(&l420, 1.0, Some(84.0)).map(|r| r.quality), Some(95));
        assert_eq!(chosen(&l444, 1.0, Some(84.0)).map(|r| r.quality), Some(90));
        assert!(chosen(&l420, 0.5, None).is_none());
        let pairs = [(&l420, &l444)];
        let always = sampling_policy(&pairs, 1.0, Some(84.0), 0);
        assert_eq!((always.bytes, always.written_444, always.searched_444), (180, 1, 1));
        let never = sampling_policy(&pairs, 1.0, Some(84.0), 101);
        assert_eq!((never.bytes, never.written_444, never.searched_444), (200, 0, 0));
        // 4:2:0 cannot reach 0.65: 4:4:4 is searched whatever the threshold.
        let rescue = sampling_policy(&pairs, 0.65, None, 101);
        assert_eq!((rescue.bytes, rescue.written_444, rescue.meeting), (230, 1, 1));
        assert_eq!(fit_floor(&[&l420, &l444], 1.0), Some((82.0 + 85.0) / 2.0));
    }
}
