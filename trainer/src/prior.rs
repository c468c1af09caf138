//! Fitting and evaluating the quality prior ([`jnd_model::prior`]): per quality, a ridge regression
//! from the original's standardised features to `ln v`, `v` read off the photo's ladder: the
//! teacher's butteraugli 3-norm, or the SSIMULACRA 2 gap `100 - s` ([`Metric`]). Fitted on training
//! photos only; the ridge strength is chosen by leave-one-out on the same training photos.

use jnd_model::Image;
use jnd_model::prior::{FEATURES, Features, QualityPrior, Row, ssimulacra2_gap};

use crate::ladder::{Ladder, Rung};
use crate::teacher::{Aggregate, Teacher};
use crate::{Error, Result};

/// One photo: its features and its ladder.
#[derive(Debug, Clone)]
pub struct Sample {
    /// What the prior sees of the original.
    pub features: Features,
    /// The photo's ladder (the teacher's distance at every quality).
    pub ladder: Ladder,
}

impl Sample {
    /// The features of `original` beside its ladder.
    pub fn new(original: &Image, ladder: Ladder) -> Sample {
        Sample { features: Features::of(original), ladder }
    }
}

/// Which curve a prior predicts: both are distance-like (falling with quality), so one regression
/// and one search fit both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// The teacher's butteraugli 3-norm.
    Distance,
    /// `100 - SSIMULACRA 2` ([`ssimulacra2_gap`]).
    Ssimulacra2,
}

impl Metric {
    /// The distance-like value of a rung, where measured.
    pub fn value(self, rung: &Rung) -> Option<f64> {
        match self {
            Metric::Distance => Some(rung.butteraugli_3norm),
            Metric::Ssimulacra2 => rung.ssimulacra2.map(ssimulacra2_gap),
        }
    }

    /// The lowest measured quality whose value, and every measured value above it, is within
    /// `bound` (the top rung when none is): for the 3-norm, the teacher's choice.
    pub fn true_quality(self, ladder: &Ladder, bound: f64) -> u8 {
        if self == Metric::Distance {
            return teacher_quality(ladder, bound);
        }
        let measured: Vec<(u8, f64)> =
            ladder.rungs.iter().filter_map(|r| self.value(r).map(|v| (r.quality, v))).collect();
        let mut answer = measured.last().map_or(100, |&(q, _)| q);
        for &(q, v) in measured.iter().rev() {
            if v > bound {
                break;
            }
            answer = q;
        }
        answer
    }
}

/// Fits a 3-norm prior on `samples` with ridge strength `lambda` (on standardised features).
pub fn fit(samples: &[&Sample], lambda: f64) -> Result<QualityPrior> {
    fit_metric(samples, lambda, Metric::Distance)
}

/// Fits a prior of `metric` on `samples` with ridge strength `lambda` (on standardised features).
/// Qualities are those every sample's ladder measured the metric at.
pub fn fit_metric(samples: &[&Sample], lambda: f64, metric: Metric) -> Result<QualityPrior> {
    if samples.len() < 3 {
        return Err(Error::Insufficient(format!("{} photos are too few to fit a prior", samples.len())));
    }
    let n = samples.len() as f64;
    let mean: [f64; FEATURES] =
        std::array::from_fn(|k| samples.iter().map(|s| s.features.0[k]).sum::<f64>() / n);
    let scale: [f64; FEATURES] = std::array::from_fn(|k| {
        let var = samples.iter().map(|s| (s.features.0[k] - mean[k]).powi(2)).sum::<f64>() / n;
        if var > 1e-12 { var.sqrt() } else { 1.0 }
    });
    let z: Vec<[f64; FEATURES]> =
        samples.iter().map(|s| std::array::from_fn(|k| (s.features.0[k] - mean[k]) / scale[k])).collect();
    // The Gram matrix is the same for every quality.
    let mut gram = [[0f64; FEATURES]; FEATURES];
    for zi in &z {
        for a in 0..FEATURES {
            for b in 0..FEATURES {
                gram[a][b] += zi[a] * zi[b];
            }
        }
    }
    for (a, row) in gram.iter_mut().enumerate() {
        row[a] += lambda;
    }
    let qualities: Vec<u8> = samples[0]
        .ladder
        .rungs
        .iter()
        .map(|r| r.quality)
        .filter(|&q| samples.iter().all(|s| s.ladder.rung(q).and_then(|r| metric.value(r)).is_some()))
        .collect();
    if qualities.is_empty() {
        return Err(Error::Insufficient("no quality measured on every ladder".into()));
    }
    let mut rows = Vec::with_capacity(qualities.len());
    for q in qualities {
        let y: Vec<f64> = samples
            .iter()
            .map(|s| s.ladder.rung(q).and_then(|r| metric.value(r)).map_or(f64::NAN, |v| v.max(1e-3).ln()))
            .collect();
        let y_mean = y.iter().sum::<f64>() / n;
        let mut rhs = [0f64; FEATURES];
        for (zi, yi) in z.iter().zip(&y) {
            for k in 0..FEATURES {
                rhs[k] += zi[k] * (yi - y_mean);
            }
        }
        let beta = solve(gram, rhs)?;
        let mut coefficients = [0f64; FEATURES + 1];
        coefficients[0] = y_mean;
        coefficients[1..].copy_from_slice(&beta);
        rows.push(Row { quality: q, coefficients });
    }
    Ok(QualityPrior { mean, scale, rows })
}

/// Gaussian elimination with partial pivoting (the system is small and positive definite).
fn solve(mut a: [[f64; FEATURES]; FEATURES], mut b: [f64; FEATURES]) -> Result<[f64; FEATURES]> {
    for col in 0..FEATURES {
        let pivot =
            (col..FEATURES).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs())).unwrap_or(col);
        if a[pivot][col].abs() < 1e-12 {
            return Err(Error::Insufficient("the prior's normal equations are singular".into()));
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        let pivot_row = a[col];
        for row in col + 1..FEATURES {
            let f = a[row][col] / pivot_row[col];
            for (x, p) in a[row][col..].iter_mut().zip(&pivot_row[col..]) {
                *x -= f * p;
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = [0f64; FEATURES];
    for row in (0..FEATURES).rev() {
        let s: f64 = (row + 1..FEATURES).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    Ok(x)
}

/// The quality the teacher at `tau` outputs for a ladder (the top quality when none is lossless).
pub fn teacher_quality(ladder: &Ladder, tau: f64) -> u8 {
    let teacher = Teacher { tau, aggregate: Aggregate::ThreeNorm };
    teacher.chosen(ladder).or(ladder.rungs.last()).map_or(100, |r| r.quality)
}

/// How well a prior's quality matches the teacher's at one target, in quality steps of the ladder.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Agreement {
    /// The target distance.
    pub tau: f64,
    /// Photos compared.
    pub photos: usize,
    /// Mean absolute difference, in steps.
    pub mad: f64,
    /// Mean signed difference (prior minus teacher; positive: the prior picks higher), in steps.
    pub mean_signed: f64,
    /// Fraction within one step.
    pub within_one: f64,
}

/// The prior's predicted quality against the ladder's own on `samples` at `bound` (a 3-norm, or a
/// SSIMULACRA 2 gap); `predict` gives each sample's prior (a fixed one, or the leave-one-out fit
/// without it).
pub fn agreement(
    samples: &[&Sample],
    tau: f64,
    step: f64,
    metric: Metric,
    mut predict: impl FnMut(usize) -> Result<u8>,
) -> Result<Agreement> {
    let (mut abs, mut signed, mut within) = (0f64, 0f64, 0usize);
    for (i, s) in samples.iter().enumerate() {
        let d = (f64::from(predict(i)?) - f64::from(metric.true_quality(&s.ladder, tau))) / step;
        abs += d.abs();
        signed += d;
        within += usize::from(d.abs() <= 1.0);
    }
    let n = samples.len().max(1) as f64;
    Ok(Agreement {
        tau,
        photos: samples.len(),
        mad: abs / n,
        mean_signed: signed / n,
        within_one: within as f64 / n,
    })
}

/// Leave-one-out agreement of priors of `metric` fitted with `lambda` on `samples` minus one.
pub fn leave_one_out(
    samples: &[&Sample],
    lambda: f64,
    tau: f64,
    step: f64,
    metric: Metric,
) -> Result<Agreement> {
    agreement(samples, tau, step, metric, |i| {
        let rest: Vec<&Sample> =
            samples.iter().enumerate().filter(|&(j, _)| j != i).map(|(_, s)| *s).collect();
        Ok(fit_metric(&rest, lambda, metric)?.quality_for(&samples[i].features, tau).0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ladder::{LadderCodec, Rung};

    #[test]
    fn a_distance_that_follows_one_feature_is_recovered() {
        // ln d(q) = 1.5 - q / 30 + 0.4 * feature 0: the fit must recover the teacher's quality.
        let samples: Vec<Sample> = (0..12)
            .map(|i| {
                let x = f64::from(i) / 4.0;
                let mut f = [0.0; FEATURES];
                f[0] = x;
                for (k, v) in f.iter_mut().enumerate().skip(1) {
                    *v = ((i * 7 + k as i32 * 3) % 5) as f64;
                }
                let rungs = (1..=100u8)
                    .map(|q| Rung {
                        quality: q,
                        bytes: 0,
                        butteraugli: 0.0,
                        butteraugli_3norm: (1.5 - f64::from(q) / 30.0 + 0.4 * x).exp(),
                        ssimulacra2: None,
                    })
                    .collect();
                Sample {
                    features: Features(f),
                    ladder: Ladder { image: format!("{i}.png"), codec: LadderCodec::Mozjpeg, rungs },
                }
            })
            .collect();
        let refs: Vec<&Sample> = samples.iter().collect();
        let loo = leave_one_out(&refs, 1e-3, 1.0, 1.0, Metric::Distance).expect("fit");
        assert!(loo.mad <= 1.0, "{loo:?}");
        assert!(fit(&refs[..2], 1.0).is_err());
    }
}
