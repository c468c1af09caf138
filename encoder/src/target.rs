//! Operating points. A target is a pair of bounds on the two metrics auto mode judges with: a
//! butteraugli 3-norm ceiling (the distance jpegli and cjxl are tuned to; 1.0 is their visually
//! lossless convention) and a SSIMULACRA 2 floor. A candidate is lossless at a target only when both
//! hold: people's choices between JPEG encodes agree with either metric about equally often and with
//! neither alone as well as with both, and a per-image choice at one metric's boundary saves
//! little against one fixed setting measured by the other (issue 33, `docs/decision.md`).
//!
//! The presets' floors are fitted on the training photos (`jnd-train fit-floors`): the SSIMULACRA 2
//! that jpegli (4:2:0) reaches at the preset's 3-norm on the median training image, so each metric binds
//! on about half the pictures. `human-first-jnd` and `sur75` reproduce the paper's operating points
//! (one bound, the 3-norm fitted to MCL-JCI's viewers) and have no floor.

use crate::settings::{Named, Preset};
use crate::{Error, Result};

/// The SSIMULACRA 2 floors of the presets with two bounds, fitted by `jnd-train fit-floors` on the
/// training photos (39 of `wikipedia/`, 156 of `cid22-512/`; jpegli 4:2:0 ladders): the median over
/// the training images of the SSIMULACRA 2 at the lowest jpegli quality whose 3-norm is within the
/// preset's.
pub mod floors {
    /// `visually-lossless`: at 3-norm 1.0.
    pub const VISUALLY_LOSSLESS: f64 = 79.0;
    /// `web-high`: at 3-norm 1.5.
    pub const WEB_HIGH: f64 = 68.0;
    /// `web`: at 3-norm 2.0.
    pub const WEB: f64 = 56.0;
}

/// The 3-norm of MCL-JCI's mean first JND (`human-first-jnd`), fitted by quantile matching
/// (`trainer/DATA.md`).
pub const HUMAN_FIRST_JND_DISTANCE: f64 = jnd_model::vpjnd::TRAINED_TAU;
/// The 3-norm at which 75 % of MCL-JCI's viewers see no difference (`sur75`), fitted the same way.
pub const SUR75_DISTANCE: f64 = 2.095;

/// An operating point: at least one bound.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Target {
    /// The preset it is, when it is one (its name in reports and markers).
    pub preset: Option<Preset>,
    /// The butteraugli 3-norm a lossless candidate stays within.
    pub distance: Option<f64>,
    /// The SSIMULACRA 2 a lossless candidate reaches.
    pub ssimulacra2: Option<f64>,
}

impl Default for Target {
    /// `visually-lossless`.
    fn default() -> Self {
        Target::preset(Preset::VisuallyLossless).unwrap_or(Target {
            preset: None,
            distance: Some(1.0),
            ssimulacra2: None,
        })
    }
}

impl Target {
    /// The distances `distance` accepts: the range the prior and the model were trained across.
    pub const DISTANCE_RANGE: std::ops::RangeInclusive<f64> = 0.5..=4.0;
    /// The SSIMULACRA 2 floors accepted (100 means identical).
    pub const SSIMULACRA2_RANGE: std::ops::RangeInclusive<f64> = 0.0..=100.0;

    /// The operating point of a preset; `None` for `machine`, which is not one.
    pub fn preset(preset: Preset) -> Option<Target> {
        let (distance, ssimulacra2) = match preset {
            Preset::VisuallyLossless => (1.0, Some(floors::VISUALLY_LOSSLESS)),
            Preset::WebHigh => (1.5, Some(floors::WEB_HIGH)),
            Preset::Web => (2.0, Some(floors::WEB)),
            Preset::HumanFirstJnd => (HUMAN_FIRST_JND_DISTANCE, None),
            Preset::Sur75 => (SUR75_DISTANCE, None),
            Preset::Machine => return None,
        };
        Some(Target { preset: Some(preset), distance: Some(distance), ssimulacra2 })
    }

    /// A target of the bounds given (`distance`, `ssimulacra2`): either or both; each is checked
    /// against its range.
    pub fn bounds(distance: Option<f64>, ssimulacra2: Option<f64>) -> Result<Target> {
        if distance.is_none() && ssimulacra2.is_none() {
            return Err(Error::Parameter("a target needs a distance, a SSIMULACRA 2 floor or both".into()));
        }
        if let Some(d) = distance {
            crate::settings::request::check_distance(d)?;
        }
        if let Some(s) = ssimulacra2 {
            crate::settings::request::check_ssimulacra2(s)?;
        }
        Ok(Target { preset: None, distance, ssimulacra2 })
    }

    /// A target of one 3-norm bound.
    pub fn distance(d: f64) -> Result<Target> {
        Target::bounds(Some(d), None)
    }

    /// The 3-norm ceiling, or infinity when there is none.
    pub fn tau(&self) -> f64 {
        self.distance.unwrap_or(f64::INFINITY)
    }

    /// Whether a candidate with these scores is lossless: within the ceiling and, when there is a
    /// floor, at or above it (`ssimulacra2` `None` counts as failing a floor).
    pub fn passes(&self, distance: f64, ssimulacra2: Option<f64>) -> bool {
        distance <= self.tau() && self.ssimulacra2.is_none_or(|floor| ssimulacra2.is_some_and(|s| s >= floor))
    }

    /// The name used in reports and jndenc's marker: the preset's, else the bounds
    /// (`distance=1.5`, `ssimulacra2=80`, `distance=1.5,ssimulacra2=80`).
    pub fn name(&self) -> String {
        if let Some(preset) = self.preset {
            return preset.name().to_string();
        }
        let parts: Vec<String> = [
            self.distance.map(|d| format!("distance={d}")),
            self.ssimulacra2.map(|s| format!("ssimulacra2={s}")),
        ]
        .into_iter()
        .flatten()
        .collect();
        parts.join(",")
    }

    /// The pair as people read it: `3-norm <= 1, SSIMULACRA 2 >= 84`.
    pub fn describe(&self) -> String {
        let parts: Vec<String> = [
            self.distance.map(|d| format!("3-norm <= {d}")),
            self.ssimulacra2.map(|s| format!("SSIMULACRA 2 >= {s}")),
        ]
        .into_iter()
        .flatten()
        .collect();
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_pairs_and_the_paper_points_single() {
        let vl = Target::preset(Preset::VisuallyLossless).unwrap();
        assert_eq!((vl.distance, vl.ssimulacra2), (Some(1.0), Some(floors::VISUALLY_LOSSLESS)));
        assert_eq!(Target::default(), vl);
        assert_eq!(Target::preset(Preset::HumanFirstJnd).unwrap().ssimulacra2, None);
        assert!(Target::preset(Preset::Machine).is_none());
        // Looser presets: a higher ceiling and a lower floor.
        let (wh, w) = (Target::preset(Preset::WebHigh).unwrap(), Target::preset(Preset::Web).unwrap());
        assert!(vl.tau() < wh.tau() && wh.tau() < w.tau());
        assert!(vl.ssimulacra2 > wh.ssimulacra2 && wh.ssimulacra2 > w.ssimulacra2);
    }

    #[test]
    fn both_bounds_must_hold() {
        let t = Target::bounds(Some(1.5), Some(80.0)).unwrap();
        assert!(t.passes(1.5, Some(80.0)));
        assert!(!t.passes(1.51, Some(95.0)));
        assert!(!t.passes(1.0, Some(79.9)));
        assert!(!t.passes(1.0, None));
        assert_eq!(t.name(), "distance=1.5,ssimulacra2=80");
        let only = Target::bounds(None, Some(70.0)).unwrap();
        assert!(only.passes(9.0, Some(70.0)) && only.tau().is_infinite());
        assert!(Target::bounds(None, None).is_err());
        assert!(Target::bounds(Some(9.0), None).is_err());
        assert!(Target::bounds(None, Some(101.0)).is_err());
        assert!(Target::bounds(None, Some(f64::NAN)).is_err());
    }
}
