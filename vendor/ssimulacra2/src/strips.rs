//! jndenc's addition: SSIMULACRA 2 computed strip by strip, so that neither side's planes exist
//! whole. Each scale is cut into strips of [`STRIP_ROWS`] rows; a strip is converted and blurred with
//! [`HALO_ROWS`] more rows above and below (the recursive Gaussian reaches [`consts::RADIUS`] rows), and
//! only its own rows are summed into the maps. The next scale's linear image is built from the
//! strips' own rows, halved as the crate halves it, and runs as a cascade (no scale is held whole).
//! Both sides are computed for every comparison (five blurs per plane instead of the prepared
//! source's three), in exchange for memory bounded by the width: the planes of one strip and a few
//! hundred rows of linear RGB per scale.
//!
//! The arithmetic is `fast.rs`'s, operation for operation; what differs is where each vertical
//! recursion starts (a strip's first row instead of the picture's). In exact arithmetic the filter's
//! response is 2 x [`consts::RADIUS`] + 1 rows long, so that changes nothing; in `f32` each row leaves
//! a small undamped residue, so the whole picture's pass drifts with the row index, and the strips,
//! restarted every [`STRIP_ROWS`] rows, carry less of it (`VENDORED.md` measures both).

use std::ops::Range;

use crate::blur::gaussian::consts;
use crate::fast;
use crate::{Msssim, MsssimScale, NUM_SCALES};

/// Rows per strip that count (even, so that each strip's rows halve into whole rows).
pub(crate) const STRIP_ROWS: usize = 128;

/// Rows above and below a strip that are blurred but not counted.
pub(crate) const HALO_ROWS: usize = 8;

const _: () = assert!(HALO_ROWS > consts::RADIUS && STRIP_ROWS % 2 == 0);

/// One side of a comparison at one scale.
#[derive(Clone, Copy)]
pub(crate) enum Side<'a> {
    /// Interleaved 8-bit sRGB and its linearisation table.
    Srgb8(&'a [u8], &'a [f32; 256]),
    /// Linear RGB.
    Linear(&'a [[f32; 3]]),
}

impl Side<'_> {
    /// Rows `rows` of a `width`-wide picture as linear RGB.
    fn linear(self, width: usize, rows: Range<usize>) -> Vec<[f32; 3]> {
        match self {
            Side::Srgb8(rgb, table) => rgb[rows.start * width * 3..rows.end * width * 3]
                .chunks_exact(3)
                .map(|p| [table[usize::from(p[0])], table[usize::from(p[1])], table[usize::from(p[2])]])
                .collect(),
            Side::Linear(linear) => linear[rows.start * width..rows.end * width].to_vec(),
        }
    }
}

/// The SSIMULACRA 2 sub-scores of `source` against `distorted`, both `width` x `height` (at least
/// 8x8), strip by strip at every scale. The scales run as a cascade: each strip's own rows, halved,
/// are handed to the next scale, which runs its strips as soon as their rows (and halos) have arrived
/// and then drops the rows it no longer needs, so no scale is ever held whole.
pub(crate) fn compare(source: Side<'_>, distorted: Side<'_>, width: usize, height: usize) -> Msssim {
    // The crate's loop: a scale runs while the previous one was at least 8x8.
    let mut sizes = vec![(width, height)];
    while sizes.len() < NUM_SCALES {
        let (w, h) = sizes[sizes.len() - 1];
        if w < 8 || h < 8 {
            break;
        }
        sizes.push((w.div_ceil(2), h.div_ceil(2)));
    }
    let mut levels: Vec<Level> = sizes.iter().map(|&(w, h)| Level::new(w, h)).collect();
    let halve = levels.len() > 1;
    let mut y0 = 0;
    while y0 < height {
        let y1 = (y0 + STRIP_ROWS).min(height);
        let (e0, e1) = (y0.saturating_sub(HALO_ROWS), (y1 + HALO_ROWS).min(height));
        let (lin_a, lin_b) = rayon::join(|| source.linear(width, e0..e1), || distorted.linear(width, e0..e1));
        let halved = levels[0].sums.strip(width, &lin_a, &lin_b, y0 - e0..y1 - e0, halve);
        drop((lin_a, lin_b));
        if let Some((a, b)) = halved {
            feed(&mut levels[1..], a, b);
        }
        y0 = y1;
    }
    let mut msssim = Msssim::default();
    msssim.scales = levels.iter().map(|l| l.sums.averages(l.width * l.height)).collect();
    msssim
}

/// Hands rows of both sides, halved from the scale before, to the first of `levels`, and runs every
/// strip whose rows have all arrived (passing its own rows on, halved, to the next).
fn feed(levels: &mut [Level], a: Vec<[f32; 3]>, b: Vec<[f32; 3]>) {
    let Some((level, rest)) = levels.split_first_mut() else { return };
    level.a.extend(a);
    level.b.extend(b);
    let (w, h) = (level.width, level.height);
    loop {
        let y0 = level.next;
        if y0 >= h {
            break;
        }
        let y1 = (y0 + STRIP_ROWS).min(h);
        let (e0, e1) = (y0.saturating_sub(HALO_ROWS), (y1 + HALO_ROWS).min(h));
        if level.first + level.a.len() / w < e1 {
            break;
        }
        let first = level.first;
        let at = |y: usize| (y - first) * w;
        let halved =
            level.sums.strip(w, &level.a[at(e0)..at(e1)], &level.b[at(e0)..at(e1)], y0 - e0..y1 - e0, !rest.is_empty());
        // Keep only the rows the next strip's halo reaches back to.
        let keep = y1.saturating_sub(HALO_ROWS).max(level.first);
        let drop = at(keep);
        level.a.drain(..drop);
        level.b.drain(..drop);
        level.first = keep;
        level.next = y1;
        if let Some((a, b)) = halved {
            feed(rest, a, b);
        }
    }
}

/// One scale of the cascade: its size, the rows of both sides it holds (from `first`), where its
/// next strip starts, and its maps' sums so far.
struct Level {
    width: usize,
    height: usize,
    first: usize,
    next: usize,
    a: Vec<[f32; 3]>,
    b: Vec<[f32; 3]>,
    sums: Sums,
}

impl Level {
    fn new(width: usize, height: usize) -> Self {
        Level { width, height, first: 0, next: 0, a: Vec::new(), b: Vec::new(), sums: Sums::default() }
    }
}

/// One scale's map sums: per channel the SSIM map's (sum, fourth powers) and the edge maps' four.
#[derive(Default)]
struct Sums {
    ssim: [[f64; 2]; 3],
    edge: [[f64; 4]; 3],
}

impl Sums {
    /// One `w`-wide strip: `lin_a` and `lin_b` are its rows with their halos, `own` the rows that
    /// count (the first even). Adds the strip's maps to the sums and, when `halve`, returns its own
    /// rows halved.
    #[allow(clippy::type_complexity)]
    fn strip(
        &mut self,
        w: usize,
        lin_a: &[[f32; 3]],
        lin_b: &[[f32; 3]],
        own: Range<usize>,
        halve: bool,
    ) -> Option<(Vec<[f32; 3]>, Vec<[f32; 3]>)> {
        let rows = lin_a.len() / w;
        let (img_a, img_b) =
            rayon::join(|| fast::positive_xyb_planes(lin_a, w), || fast::positive_xyb_planes(lin_b, w));
        for c in 0..3 {
            let (x, y) = (&img_a[c], &img_b[c]);
            let ((mu1, mu2), (s11, (s22, s12))) = rayon::join(
                || rayon::join(|| fast::blur_plane(x, w, rows), || fast::blur_plane(y, w, rows)),
                || {
                    rayon::join(
                        || fast::blur_plane(&fast::product(x, x), w, rows),
                        || {
                            rayon::join(
                                || fast::blur_plane(&fast::product(y, y), w, rows),
                                || fast::blur_plane(&fast::product(x, y), w, rows),
                            )
                        },
                    )
                },
            );
            let (s, e) = rayon::join(
                || fast::ssim_sums(w, own.clone(), &mu1, &mu2, &s11, &s22, &s12),
                || fast::edge_sums(w, own.clone(), x, &mu1, y, &mu2),
            );
            for (total, part) in self.ssim[c].iter_mut().zip(s) {
                *total += part;
            }
            for (total, part) in self.edge[c].iter_mut().zip(e) {
                *total += part;
            }
        }
        halve.then(|| {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            fast::downscale_rows(lin_a, w, own.clone(), &mut a);
            fast::downscale_rows(lin_b, w, own, &mut b);
            (a, b)
        })
    }

    /// The scale's map averages over its `pixels` pixels.
    fn averages(&self, pixels: usize) -> MsssimScale {
        let mut scale = MsssimScale::default();
        for c in 0..3 {
            scale.avg_ssim[c * 2..c * 2 + 2].copy_from_slice(&fast::ssim_averages(self.ssim[c], pixels));
            scale.avg_edgediff[c * 4..c * 4 + 4].copy_from_slice(&fast::edge_averages(self.edge[c], pixels));
        }
        scale
    }
}
