//! The binary block search over quality (VP-JND's search, with its bugs fixed).
//!
//! Qualities are judged "visible" (distortion noticeable) or not by a noisy decider. Instead of a single
//! probe at the midpoint, the search looks at a block of `block` qualities right of the midpoint and
//! `block` left of it: if the right block is all visible the JND lies above; if both are all invisible it
//! lies below; otherwise the transition is inside the window and is read off it. The answer is the lowest
//! quality such that it and every judged quality above it in its window are invisible. Every quality is
//! judged at most once.

use std::collections::BTreeMap;

/// What a search found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchOutcome {
    /// The chosen quality: the lowest one judged invisible with nothing visible judged above it.
    pub quality: u8,
    /// Every decision made, in the order made: (quality, visible).
    pub probes: Vec<(u8, bool)>,
    /// True when even the highest quality was judged visible (the chosen quality is then the highest).
    pub saturated: bool,
}

/// Runs the block search over `qualities` (ascending, distinct) with blocks of `block` qualities.
///
/// `visible(q)` judges one quality; its errors end the search. An empty `qualities` gives `None`.
pub fn block_search<E>(
    qualities: &[u8],
    block: usize,
    mut visible: impl FnMut(u8) -> Result<bool, E>,
) -> Result<Option<SearchOutcome>, E> {
    block_search_batched(qualities, block, |batch| batch.iter().map(|&q| visible(q)).collect())
}

/// [`block_search`] with a judge that takes a whole block at once (so a caller can encode and judge
/// a block's qualities in parallel). `visible_many(qs)` returns one verdict per quality, in order.
///
/// The decisions and the outcome are the same as [`block_search`]'s, except that the final top-down
/// scan judges `block` qualities at a time and may judge a few below the first visible one.
pub fn block_search_batched<E>(
    qualities: &[u8],
    block: usize,
    mut visible_many: impl FnMut(&[u8]) -> Result<Vec<bool>, E>,
) -> Result<Option<SearchOutcome>, E> {
    let n = qualities.len();
    if n == 0 {
        return Ok(None);
    }
    let block = block.max(1);
    let mut judged: BTreeMap<usize, bool> = BTreeMap::new();
    let mut probes = Vec::new();
    // Judges the not-yet-judged indices of `range` in one call; returns every verdict of the range.
    let mut judge = |range: std::ops::Range<usize>, probes: &mut Vec<(u8, bool)>| -> Result<Vec<bool>, E> {
        let fresh: Vec<usize> = range.clone().filter(|i| !judged.contains_key(i)).collect();
        if !fresh.is_empty() {
            let asked: Vec<u8> = fresh.iter().map(|&i| qualities[i]).collect();
            let verdicts = visible_many(&asked)?;
            for (&i, &v) in fresh.iter().zip(verdicts.iter()) {
                judged.insert(i, v);
                probes.push((qualities[i], v));
            }
        }
        Ok(range.map(|i| judged.get(&i).copied().unwrap_or(true)).collect())
    };
    // Invariant: the JND index lies in [lo, hi]; hi == n means "above every quality".
    let (mut lo, mut hi) = (0usize, n);
    while hi - lo > 2 * block {
        let mid = (lo + hi) / 2;
        let right = judge(mid..(mid + block).min(n), &mut probes)?;
        if right.iter().all(|&v| v) {
            lo = (mid + block).min(n);
            continue;
        }
        let left = judge(mid - block..mid, &mut probes)?;
        let window: Vec<bool> = left.iter().chain(right.iter()).copied().collect();
        if window.iter().all(|&v| !v) {
            hi = mid - block;
            continue;
        }
        if window.last() == Some(&true) {
            // Mixed, but the window's top is visible: the transition lies above.
            lo = (mid + block).min(n);
            continue;
        }
        // The transition is inside the window: just above its highest visible quality.
        let last_visible = window.iter().rposition(|&v| v).unwrap_or(0);
        let index = mid - block + last_visible + 1;
        return Ok(Some(SearchOutcome { quality: qualities[index], probes, saturated: false }));
    }
    // A short range: judge from the top down, a block at a time, until the first visible quality.
    let mut index = hi;
    let mut top = hi;
    'scan: while top > lo {
        let bottom = top.saturating_sub(block).max(lo);
        let verdicts = judge(bottom..top, &mut probes)?;
        for (offset, &v) in verdicts.iter().enumerate().rev() {
            if v {
                break 'scan;
            }
            index = bottom + offset;
        }
        top = bottom;
    }
    let saturated = index == n;
    let index = index.min(n - 1);
    Ok(Some(SearchOutcome { quality: qualities[index], probes, saturated }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(jnd: u8, block: usize) -> SearchOutcome {
        let qualities: Vec<u8> = (1..=100).collect();
        block_search(&qualities, block, |q| Ok::<_, ()>(q < jnd)).unwrap().unwrap()
    }

    #[test]
    fn finds_every_clean_threshold_exactly_with_few_probes() {
        for jnd in 1..=100u8 {
            for block in [1, 2, 3, 5] {
                let outcome = run(jnd, block);
                assert_eq!(outcome.quality, jnd, "jnd {jnd} block {block}");
                assert!(!outcome.saturated);
                assert!(outcome.probes.len() <= 40, "{} probes", outcome.probes.len());
                let mut seen: Vec<u8> = outcome.probes.iter().map(|p| p.0).collect();
                seen.sort_unstable();
                seen.dedup();
                assert_eq!(seen.len(), outcome.probes.len(), "a quality judged twice");
            }
        }
    }

    #[test]
    fn the_batched_search_agrees_with_the_single_one() {
        let qualities: Vec<u8> = (1..=100).collect();
        for jnd in 1..=100u8 {
            let single = run(jnd, 3);
            let mut calls = 0;
            let batched = block_search_batched(&qualities, 3, |qs| {
                calls += 1;
                assert!(qs.len() <= 3 && !qs.is_empty());
                Ok::<_, ()>(qs.iter().map(|&q| q < jnd).collect())
            })
            .unwrap()
            .unwrap();
            assert_eq!(batched.quality, single.quality, "jnd {jnd}");
            assert!(
                calls < single.probes.len().max(2),
                "jnd {jnd}: {calls} calls for {} probes",
                single.probes.len()
            );
        }
    }

    #[test]
    fn everything_visible_saturates_at_the_top() {
        let qualities: Vec<u8> = (0..=100).step_by(2).collect();
        let outcome = block_search(&qualities, 3, |_| Ok::<_, ()>(true)).unwrap().unwrap();
        assert_eq!(outcome.quality, 100);
        assert!(outcome.saturated);
        let nothing = block_search(&qualities, 3, |_| Ok::<_, ()>(false)).unwrap().unwrap();
        assert_eq!(nothing.quality, 0);
    }

    #[test]
    fn an_isolated_wrong_decision_inside_a_block_is_outvoted() {
        // True JND 60; the decider wrongly calls 52 invisible. A single-probe bisection landing on 52
        // would go low; the block sees visible neighbours and keeps searching above.
        let qualities: Vec<u8> = (1..=100).collect();
        let outcome = block_search(&qualities, 5, |q| Ok::<_, ()>(q < 60 && q != 52)).unwrap().unwrap();
        assert_eq!(outcome.quality, 60);
    }

    #[test]
    fn errors_stop_the_search_and_empty_input_gives_none() {
        let qualities: Vec<u8> = (1..=100).collect();
        let err = block_search(&qualities, 5, |q| if q == 50 { Err("boom") } else { Ok(false) });
        assert_eq!(err, Err("boom"));
        assert_eq!(block_search(&[], 5, |_| Ok::<_, ()>(false)).unwrap(), None);
    }
}
