//! The calibrated perceptual teacher: a candidate is "visible" when its butteraugli distance from
//! the original exceeds `tau`. The picture-wise JND quality of a ladder is defined as MCL-JCI
//! defines a subject's first JND: the **highest quality at which distortion is still visible**, so
//! every quality above it is invisible. It is read off a monotone envelope: scanning down from the
//! top, the first visible rung ends the invisible run, so a lone invisible wiggle below a visible
//! rung does not count.

use crate::ladder::{Ladder, Rung};

/// Which butteraugli aggregate the teacher thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregate {
    /// The max-norm (the worst spot).
    MaxNorm,
    /// libjxl's 3-norm (tail and bulk together).
    ThreeNorm,
}

impl Aggregate {
    /// Name used in files.
    pub fn name(self) -> &'static str {
        match self {
            Aggregate::MaxNorm => "max-norm",
            Aggregate::ThreeNorm => "3-norm",
        }
    }
}

/// A teacher's operating point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Teacher {
    /// Butteraugli threshold.
    pub tau: f64,
    /// The aggregate it applies to.
    pub aggregate: Aggregate,
}

/// The teacher's picture-wise JND for one ladder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jnd {
    /// Even the top rung is visible: no quality of this ladder is perceptually lossless.
    Never,
    /// The highest visible quality; every measured quality above it is invisible.
    At(u8),
    /// No rung is visible: the JND lies below the lowest measured quality.
    BelowRange,
}

impl Teacher {
    /// `strict`: butteraugli's own just-noticeable boundary, 1.0, on the 3-norm (4:2:0 chroma alone
    /// keeps the max-norm near 1 at the top quality on some photos).
    pub const STRICT: Teacher = Teacher { tau: 1.0, aggregate: Aggregate::ThreeNorm };

    /// `human-first-jnd`: the 3-norm fitted to MCL-JCI's human first-JND distribution, 2.295
    /// (`trainer/DATA.md`), the default operating point.
    pub const HUMAN_FIRST_JND: Teacher = Teacher { tau: 2.295, aggregate: Aggregate::ThreeNorm };

    /// The distance this teacher looks at.
    pub fn distance(&self, rung: &Rung) -> f64 {
        match self.aggregate {
            Aggregate::MaxNorm => rung.butteraugli,
            Aggregate::ThreeNorm => rung.butteraugli_3norm,
        }
    }

    /// Whether a single rung's distortion is visible (before the envelope).
    pub fn visible(&self, rung: &Rung) -> bool {
        self.distance(rung) > self.tau
    }

    /// The picture-wise JND of a ladder.
    pub fn jnd(&self, ladder: &Ladder) -> Jnd {
        match ladder.rungs.iter().rev().find(|r| self.visible(r)) {
            None => Jnd::BelowRange,
            Some(r) if Some(r) == ladder.rungs.last() => Jnd::Never,
            Some(r) => Jnd::At(r.quality),
        }
    }

    /// The JND as a number for statistics: `At(q)` is q, `BelowRange` the lowest rung's quality
    /// minus one, `Never` the top rung's quality.
    pub fn jnd_value(&self, ladder: &Ladder) -> f64 {
        let lowest = ladder.rungs.first().map_or(0.0, |r| f64::from(r.quality));
        let highest = ladder.rungs.last().map_or(100.0, |r| f64::from(r.quality));
        match self.jnd(ladder) {
            Jnd::At(q) => f64::from(q),
            Jnd::BelowRange => lowest - 1.0,
            Jnd::Never => highest,
        }
    }

    /// The rung the teacher would output: the first invisible rung above the JND (the lowest rung
    /// when none is visible); `None` when even the top rung is visible.
    pub fn chosen<'a>(&self, ladder: &'a Ladder) -> Option<&'a Rung> {
        match self.jnd(ladder) {
            Jnd::Never => None,
            Jnd::BelowRange => ladder.rungs.first(),
            Jnd::At(q) => ladder.rungs.iter().find(|r| r.quality > q),
        }
    }

    /// The training label of quality `q`: true ("visible", 1) at and below the JND, false above.
    pub fn label(&self, ladder: &Ladder, quality: u8) -> bool {
        match self.jnd(ladder) {
            Jnd::Never => true,
            Jnd::BelowRange => false,
            Jnd::At(j) => quality <= j,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ladder::LadderCodec;

    fn ladder(distances: &[(u8, f64)]) -> Ladder {
        Ladder {
            image: "t.png".into(),
            codec: LadderCodec::Baseline,
            rungs: distances
                .iter()
                .map(|&(quality, d)| Rung {
                    quality,
                    bytes: 0,
                    butteraugli: d,
                    butteraugli_3norm: d / 2.0,
                    ssimulacra2: None,
                })
                .collect(),
        }
    }

    #[test]
    fn jnd_is_the_highest_visible_quality_under_a_monotone_envelope() {
        let t = Teacher { tau: 1.5, aggregate: Aggregate::MaxNorm };
        // A wiggle at 30 (invisible) below a visible 40 does not make 30 the JND.
        let l = ladder(&[(10, 5.0), (20, 3.0), (30, 1.4), (40, 1.6), (50, 1.2), (60, 0.8)]);
        assert_eq!(t.jnd(&l), Jnd::At(40));
        assert!(t.label(&l, 30) && t.label(&l, 40) && !t.label(&l, 50));
        assert_eq!(t.jnd_value(&l), 40.0);
        assert_eq!(t.chosen(&l).map(|r| r.quality), Some(50));
        assert_eq!(t.jnd(&ladder(&[(10, 1.0), (20, 0.5)])), Jnd::BelowRange);
        assert_eq!(t.jnd_value(&ladder(&[(10, 1.0), (20, 0.5)])), 9.0);
        assert_eq!(t.jnd(&ladder(&[(10, 3.0), (100, 2.0)])), Jnd::Never);
        // The 3-norm teacher reads the other column.
        let strict = Teacher::STRICT;
        assert_eq!(strict.jnd(&l), Jnd::At(20));
    }
}
