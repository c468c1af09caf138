//! Fitting the teacher's `tau` by quantile matching: the `tau` whose distribution of teacher JND
//! qualities over the photos best matches a human distribution at the 10/25/50/75/90 % quantiles
//! (least squares), searched on a fine grid.

use crate::human::quantile;
use crate::ladder::Ladder;
use crate::teacher::{Aggregate, Teacher};
use crate::{Error, Result};

/// The quantiles compared.
pub const QUANTILES: [f64; 5] = [0.10, 0.25, 0.50, 0.75, 0.90];

/// The outcome of a fit.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    /// The fitted operating point.
    pub teacher: Teacher,
    /// Sum of squared quantile differences (QF^2).
    pub loss: f64,
    /// The human distribution's quantiles.
    pub human: [f64; 5],
    /// The teacher's quantiles at the fitted `tau`.
    pub fitted: [f64; 5],
    /// Every grid point: (tau, loss, median teacher JND), for sensitivity plots and tables.
    pub curve: Vec<(f64, f64, f64)>,
}

/// The teacher's JND values over `ladders`.
pub fn teacher_jnds(teacher: &Teacher, ladders: &[Ladder]) -> Vec<f64> {
    ladders.iter().map(|l| teacher.jnd_value(l)).collect()
}

fn quantiles(values: &[f64]) -> [f64; 5] {
    QUANTILES.map(|p| quantile(values, p))
}

/// Fits `tau` for `aggregate` on a grid from `lo` to `hi` in steps of `step`.
pub fn fit(
    ladders: &[Ladder],
    human: &[f64],
    aggregate: Aggregate,
    (lo, hi, step): (f64, f64, f64),
) -> Result<Fit> {
    if ladders.len() < 5 || human.len() < 5 {
        return Err(Error::Insufficient(format!(
            "a quantile fit needs at least 5 ladders and 5 human values, got {} and {}",
            ladders.len(),
            human.len()
        )));
    }
    let target = quantiles(human);
    let mut curve = Vec::new();
    let mut best: Option<(f64, f64)> = None;
    let steps = ((hi - lo) / step).round() as usize;
    for i in 0..=steps {
        let tau = lo + i as f64 * step;
        let values = teacher_jnds(&Teacher { tau, aggregate }, ladders);
        let q = quantiles(&values);
        let loss: f64 = q.iter().zip(&target).map(|(a, b)| (a - b).powi(2)).sum();
        curve.push((tau, loss, q[2]));
        if best.is_none_or(|(_, l)| loss < l) {
            best = Some((tau, loss));
        }
    }
    let (tau, loss) = best.ok_or_else(|| Error::Insufficient("empty grid".into()))?;
    let teacher = Teacher { tau, aggregate };
    Ok(Fit { teacher, loss, human: target, fitted: quantiles(&teacher_jnds(&teacher, ladders)), curve })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ladder::{LadderCodec, Rung};

    /// A synthetic ladder whose distance falls as 100 / q: visible above tau until q = 100 / tau.
    fn ladder(scale: f64) -> Ladder {
        Ladder {
            image: "s.png".into(),
            codec: LadderCodec::Baseline,
            rungs: (1..=100)
                .map(|q| {
                    let d = scale * 100.0 / f64::from(q);
                    Rung { quality: q, bytes: 0, butteraugli: d, butteraugli_3norm: d, ssimulacra2: None }
                })
                .collect(),
        }
    }

    #[test]
    fn recovers_the_tau_that_generated_the_data() {
        // With tau = 2, an image with scale s has JND = floor(50 s) (the last q with 100 s / q > 2).
        let scales: Vec<f64> = (0..30).map(|i| 0.4 + 0.02 * f64::from(i)).collect();
        let ladders: Vec<Ladder> = scales.iter().map(|&s| ladder(s)).collect();
        let human = teacher_jnds(&Teacher { tau: 2.0, aggregate: Aggregate::MaxNorm }, &ladders);
        let fit = fit(&ladders, &human, Aggregate::MaxNorm, (0.5, 5.0, 0.01)).unwrap();
        assert!((fit.teacher.tau - 2.0).abs() < 0.03, "{}", fit.teacher.tau);
        assert!(fit.loss < 1.0);
        assert!(super::fit(&ladders[..2], &human, Aggregate::MaxNorm, (0.5, 5.0, 0.1)).is_err());
    }
}
