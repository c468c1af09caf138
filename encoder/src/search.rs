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

/// The verdicts one search has gathered: each index of the quality list judged at most once, and
/// every decision in the order made.
struct Verdicts<'q> {
    qualities: &'q [u8],
    judged: BTreeMap<usize, bool>,
    probes: Vec<(u8, bool)>,
}

impl<'q> Verdicts<'q> {
    fn new(qualities: &'q [u8]) -> Self {
        Self { qualities, judged: BTreeMap::new(), probes: Vec::new() }
    }

    /// Judges the not-yet-judged ones of `indices` in one call to `visible_many`.
    fn ask<E>(
        &mut self,
        indices: impl IntoIterator<Item = usize>,
        visible_many: &mut impl FnMut(&[u8]) -> Result<Vec<bool>, E>,
    ) -> Result<(), E> {
        let fresh: Vec<usize> = indices.into_iter().filter(|i| !self.judged.contains_key(i)).collect();
        if !fresh.is_empty() {
            let asked: Vec<u8> = fresh.iter().map(|&i| self.qualities[i]).collect();
            let verdicts = visible_many(&asked)?;
            for (&i, &v) in fresh.iter().zip(verdicts.iter()) {
                self.judged.insert(i, v);
                self.probes.push((self.qualities[i], v));
            }
        }
        Ok(())
    }
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
    let mut seen = Verdicts::new(qualities);
    // Judges the not-yet-judged indices of `range` in one call; returns every verdict of the range.
    let mut judge = |range: std::ops::Range<usize>, seen: &mut Verdicts| -> Result<Vec<bool>, E> {
        seen.ask(range.clone(), &mut visible_many)?;
        Ok(range.map(|i| seen.judged.get(&i).copied().unwrap_or(true)).collect())
    };
    // Invariant: the JND index lies in [lo, hi]; hi == n means "above every quality".
    let (mut lo, mut hi) = (0usize, n);
    while hi - lo > 2 * block {
        let mid = (lo + hi) / 2;
        let right = judge(mid..(mid + block).min(n), &mut seen)?;
        if right.iter().all(|&v| v) {
            lo = (mid + block).min(n);
            continue;
        }
        let left = judge(mid - block..mid, &mut seen)?;
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
        return Ok(Some(SearchOutcome { quality: qualities[index], probes: seen.probes, saturated: false }));
    }
    // A short range: judge from the top down, a block at a time, until the first visible quality.
    let mut index = hi;
    let mut top = hi;
    'scan: while top > lo {
        let bottom = top.saturating_sub(block).max(lo);
        let verdicts = judge(bottom..top, &mut seen)?;
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
    Ok(Some(SearchOutcome { quality: qualities[index], probes: seen.probes, saturated }))
}

/// What a search that starts at a predicted quality found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PriorOutcome {
    /// The verdicts agreed with one threshold: the chosen quality is the lowest one judged invisible
    /// whose neighbour below was judged visible (or the lowest quality, or the top when saturated).
    Found(SearchOutcome),
    /// A quality was judged visible above one judged invisible: the verdicts contradict a single
    /// threshold, and the caller should run the full [`block_search`] (the verdicts so far are in
    /// `probes`, to be reused).
    Contradicted {
        /// Every decision made, in the order made.
        probes: Vec<(u8, bool)>,
    },
}

/// A search that starts at the index `start` of `qualities` (ascending, distinct), where a prior
/// expects the lowest invisible quality, and brackets it, led by a prediction that each judgement
/// refreshes.
///
/// `judge_many(qs)` returns, per quality, its verdict and, when the caller can tell, the index where
/// the answer (the lowest invisible quality) is now predicted to lie, given what was measured there
/// (auto mode shifts the prior's curves through each judged candidate's scores).
///
/// The start and the quality below it are judged together; with an accurate prior that is all. Then
/// each probe goes where the latest prediction points, kept inside the bracket: just below the
/// predicted answer while nothing visible is known, at it while nothing invisible is known, and at
/// it within a known bracket. Without a prediction it gallops (1, 2, 4, ... steps) the way the
/// verdicts point until they flip, then bisects. It gallops as well once the prediction has pointed
/// the same way twice without a flip, and within a bracket it bisects every other probe, so a
/// prediction that creeps costs a few probes at most. Every quality is judged at most once.
///
/// It assumes the verdicts fall with quality. A first pair against that ends it with
/// [`PriorOutcome::Contradicted`]; later probes lie strictly inside the bracket and cannot contradict.
pub fn prior_search_batched<E>(
    qualities: &[u8],
    start: usize,
    mut judge_many: impl FnMut(&[u8]) -> Result<Vec<(bool, Option<usize>)>, E>,
) -> Result<Option<PriorOutcome>, E> {
    let n = qualities.len();
    if n == 0 {
        return Ok(None);
    }
    let mut judged: BTreeMap<usize, bool> = BTreeMap::new();
    let mut probes = Vec::new();
    // Judges `indices` in one call; the prediction after the last of them.
    let mut ask = |indices: &[usize], judged: &mut BTreeMap<usize, bool>| -> Result<Option<usize>, E> {
        let asked: Vec<u8> = indices.iter().map(|&i| qualities[i]).collect();
        let results = judge_many(&asked)?;
        let mut guess = None;
        for (&i, &(visible, g)) in indices.iter().zip(results.iter()) {
            judged.insert(i, visible);
            probes.push((qualities[i], visible));
            guess = g.map(|g| g.min(n - 1));
        }
        Ok(guess)
    };
    let monotone = |judged: &BTreeMap<usize, bool>| {
        let lowest_invisible = judged.iter().find(|(_, v)| !**v).map(|(&i, _)| i);
        let highest_visible = judged.iter().rev().find(|(_, v)| **v).map(|(&i, _)| i);
        match (highest_visible, lowest_invisible) {
            (Some(v), Some(u)) if v > u => None,
            pair => Some(pair),
        }
    };
    // The start and the quality below it, side by side (one call: the caller judges them in
    // parallel).
    let start = start.min(n - 1);
    let first: Vec<usize> = if start > 0 { vec![start - 1, start] } else { vec![start] };
    let mut guess = ask(&first, &mut judged)?;
    // Probes in a row on one side while only that side is known: past two, the search gallops.
    let (mut run, mut stride) = (0usize, 1usize);
    let mut last_side = None;
    // Within a known bracket: whether the previous probe was a bisection (None before the first).
    let mut bisected_last: Option<bool> = None;
    loop {
        let Some(bracket) = monotone(&judged) else {
            return Ok(Some(PriorOutcome::Contradicted { probes }));
        };
        let next = match bracket {
            (Some(v), Some(u)) if u - v <= 1 => break,
            (None, Some(0)) => break,
            (Some(v), None) if v == n - 1 => break,
            (None, Some(u)) => {
                run = if last_side == Some(false) { run + 1 } else { 1 };
                last_side = Some(false);
                let gallop = u.saturating_sub(stride);
                stride *= 2;
                match guess.map(|g| g.saturating_sub(1).min(u - 1)) {
                    Some(g) if run <= 2 => g,
                    Some(g) => g.min(gallop),
                    None => gallop,
                }
            }
            (Some(v), None) => {
                run = if last_side == Some(true) { run + 1 } else { 1 };
                last_side = Some(true);
                let gallop = (v + stride).min(n - 1);
                stride *= 2;
                match guess.map(|g| g.clamp(v + 1, n - 1)) {
                    Some(g) if run <= 2 => g,
                    Some(g) => g.max(gallop),
                    None => gallop,
                }
            }
            (Some(v), Some(u)) => {
                // Within the bracket: the prediction first; after a predicted probe that left more
                // than one quality open, a bisection (a prediction that creeps, from either end,
                // costs at most every other probe).
                let follow = bisected_last.is_none_or(|b| b);
                bisected_last = Some(!(follow && guess.is_some()));
                match guess {
                    Some(g) if follow => g.clamp(v + 1, u - 1),
                    _ => (u + v) / 2,
                }
            }
            (None, None) => break,
        };
        if judged.contains_key(&next) {
            // Cannot happen (`next` lies strictly inside the bracket); stop rather than loop.
            break;
        }
        guess = ask(&[next], &mut judged)?;
    }
    let outcome = match monotone(&judged) {
        Some((_, Some(u))) => SearchOutcome { quality: qualities[u], probes, saturated: false },
        Some((_, None)) => SearchOutcome { quality: qualities[n - 1], probes, saturated: true },
        None => return Ok(Some(PriorOutcome::Contradicted { probes })),
    };
    Ok(Some(PriorOutcome::Found(outcome)))
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

    #[test]
    fn verdicts_that_rise_with_quality_are_reported_as_a_contradiction() {
        let qualities: Vec<u8> = (1..=100).collect();
        // 50 invisible but 51 visible: no single threshold.
        let outcome = prior_search_batched(&qualities, 50, |qs| {
            Ok::<_, ()>(qs.iter().map(|&q| (q == 51, None)).collect())
        })
        .unwrap()
        .unwrap();
        assert!(matches!(outcome, PriorOutcome::Contradicted { ref probes } if probes.len() == 2));
        assert_eq!(prior_search_batched(&[], 0, |_| Ok::<_, ()>(vec![])).unwrap(), None);
    }

    /// Runs the guided search over 1..=100 against a clean threshold `jnd` with `guess` as the
    /// prediction after each judgement; checks the answer and that nothing is judged twice.
    fn guided(jnd: u8, start: usize, guess: impl Fn(u8) -> Option<usize>) -> SearchOutcome {
        let qualities: Vec<u8> = (1..=100).collect();
        let mut asked = Vec::new();
        let outcome = prior_search_batched(&qualities, start, |qs| {
            asked.extend_from_slice(qs);
            Ok::<_, ()>(qs.iter().map(|&q| (q < jnd, guess(q))).collect())
        })
        .unwrap()
        .unwrap();
        let PriorOutcome::Found(found) = outcome else { panic!("jnd {jnd}: contradicted") };
        assert_eq!(found.quality, jnd.min(100), "jnd {jnd} start {start}");
        assert_eq!(found.saturated, jnd == 101);
        let mut seen = asked.clone();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), asked.len(), "jnd {jnd} start {start}: a quality judged twice");
        found
    }

    #[test]
    fn the_guided_search_finds_every_threshold_whatever_its_predictions() {
        for jnd in 1..=101u8 {
            for start in [0usize, 10, 49, 50, 98, 99] {
                // Right, none, off by a few either way, and pointing the wrong way every time.
                let right = usize::from(jnd.min(100)) - 1;
                let none = guided(jnd, start, |_| None);
                assert!(none.probes.len() <= 16, "no prediction: {} probes", none.probes.len());
                let exact = guided(jnd, start, |_| Some(right));
                assert!(exact.probes.len() <= 4, "jnd {jnd} start {start}: {:?}", exact.probes);
                for off in [-3i32, 3] {
                    let o = guided(jnd, start, |_| Some((right as i32 + off).clamp(0, 99) as usize));
                    assert!(o.probes.len() <= 10, "jnd {jnd} start {start} off {off}: {:?}", o.probes);
                }
                let wrong = guided(jnd, start, |q| Some(if q < jnd { 0 } else { 99 }));
                assert!(wrong.probes.len() <= 32, "jnd {jnd} start {start}: {} probes", wrong.probes.len());
            }
            // A right prediction from the start: the start and the quality below it, and nothing more.
            if (2..=100).contains(&jnd) {
                let right = usize::from(jnd) - 1;
                assert_eq!(guided(jnd, right, |_| Some(right)).probes.len(), 2, "jnd {jnd}");
                assert_eq!(
                    guided(jnd, right, |_| None).probes.len(),
                    2,
                    "jnd {jnd}: an exact prior needs two"
                );
            }
        }
    }

    #[test]
    fn after_the_first_pair_the_guided_search_probes_only_inside_its_bracket() {
        // Verdicts against one threshold (visible up to 20, and at 37), first pair 59 and 60: each
        // later probe lies strictly inside the bracket, so it ends on an invisible quality whose
        // neighbour below was judged visible, and reports no contradiction.
        let qualities: Vec<u8> = (1..=100).collect();
        let outcome = prior_search_batched(&qualities, 59, |qs| {
            Ok::<_, ()>(qs.iter().map(|&q| (q <= 20 || q == 37, Some(30))).collect())
        })
        .unwrap()
        .unwrap();
        let PriorOutcome::Found(found) = outcome else { panic!("{outcome:?}") };
        let verdict = |q: u8| found.probes.iter().find(|p| p.0 == q).map(|p| p.1);
        assert_eq!(verdict(found.quality), Some(false), "{found:?}");
        assert_eq!(verdict(found.quality - 1), Some(true), "{found:?}");
    }
}
