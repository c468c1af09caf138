//! Yang et al. 2005 (NAMM).
//!
//! - Luminance adaptation `T_l(bg)` with Chou and Li's curve on the weighted background `bg`.
//! - Texture masking `T_t = G_e * (0.0001 bg + 0.115) + (0.5 - 0.01 bg)`, where `G_e` is the maximal
//!   directional gradient `mg` times the edge weight `W_e`. `W_e` is 0.1 on Canny edges and 1
//!   elsewhere, smoothed by a 7x7 Gaussian of sigma 0.8: edges, where distortion is easily seen, keep
//!   a tenth of their gradient's masking.
//! - `JND = T_l + T_t - 0.3 min(T_l, T_t)`.
//!
//! Choices: the paper does not give its Canny thresholds. MATLAB's default (the 70th percentile of
//! the gradient) calls most of any fine texture "edge", which would cancel the very texture masking
//! the model exists for; we use the rule of Wu et al.'s code instead (the same as [`super::wu2017`]):
//! high threshold `min(60 / max(mg), 0.8)` of the normalised gradient, low = 0.4 high.
//! `T_t` is clamped at 0. The offset `0.5 - 0.01 bg` is negative above bg = 50, which would
//! let a flat bright area's "texture masking" *lower* its threshold below the luminance curve;
//! a masking effect cannot make distortion more visible than no masking does.

use super::{JndMap, Plane, background_and_gradient, luma, luminance_threshold, namm};
use crate::Image;

/// The intermediate maps of Yang's model (same size as the image).
#[derive(Debug, Clone)]
pub struct YangComponents {
    /// Luminance-adaptation threshold `T_l`.
    pub luminance: JndMap,
    /// Texture-masking threshold `T_t`.
    pub texture: JndMap,
    /// The combined JND.
    pub jnd: JndMap,
}

/// Yang's JND map.
pub fn yang2005(image: &Image) -> JndMap {
    yang2005_components(image).jnd
}

/// Yang's JND map with its components.
pub fn yang2005_components(image: &Image) -> YangComponents {
    let y = luma(image);
    let (bg, mg) = background_and_gradient(&y);
    let t_l = bg.map(luminance_threshold);
    let edges = super::wu::edges_by_height(&y, &mg);
    let weight = Plane { w: y.w, h: y.h, data: edges.iter().map(|&e| if e { 0.1 } else { 1.0 }).collect() }
        .gaussian(7, 0.8);
    let g_e = mg.zip_map(&weight, |g, w| g * w);
    let t_t = g_e.zip_map(&bg, |g, b| (g * (0.0001 * b + 0.115) + (0.5 - 0.01 * b)).max(0.0));
    let jnd = t_l.zip_map(&t_t, |l, t| namm(l, t, 0.3));
    YangComponents {
        luminance: JndMap::from_plane(t_l),
        texture: JndMap::from_plane(t_t),
        jnd: JndMap::from_plane(jnd),
    }
}
