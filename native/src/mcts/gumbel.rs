//! Gumbel MuZero (Danihelka et al., ICLR 2022), following DeepMind's mctx reference implementation:
//! the root samples Gumbel noise g(a), considers the top-m actions by g(a) + logits(a), and spends the
//! simulation budget by sequential halving; the policy target is softmax(logits + sigma(completed Q)).
//!
//! Sequential halving is expressed, as in mctx, as a table: at simulation s the root visits the
//! considered action with the highest score among those whose visit count equals
//! `considered_visits(m, S)[s]`. The top-m selection falls out of the first phase (all counts are 0,
//! the unvisited Q are equal, so the m best g + logits are visited first).

/// mctx `get_sequence_of_considered_visits`: the visit count an action must have to be selected at each
/// simulation, for `m` considered actions and a budget of `n` simulations. Written into `out` (len n).
pub fn considered_visits(m: usize, n: usize, out: &mut [u32]) {
    debug_assert_eq!(out.len(), n);
    if m <= 1 {
        for (i, v) in out.iter_mut().enumerate() {
            *v = i as u32;
        }
        return;
    }
    let log2max = (m as f64).log2().ceil() as usize;
    // Only the first `considered` counters are ever read, and they are all equal within a phase
    // (every considered action gets the same extra visits), so one counter stands for them all:
    // no allocation, which lets a search re-plan for its own budget at every prepare.
    let mut level = 0u32;
    let mut considered = m;
    let mut len = 0;
    while len < n {
        let extra = (n / (log2max * considered)).max(1);
        for _ in 0..extra {
            for _ in 0..considered {
                if len < n {
                    out[len] = level;
                    len += 1;
                }
            }
            level += 1;
        }
        considered = (considered / 2).max(2);
    }
}

/// The table for every m in 0..=max_m, flattened row-major ([max_m + 1, n]).
pub fn considered_visits_table(max_m: usize, n: usize) -> Vec<u32> {
    let mut table = vec![0u32; (max_m + 1) * n];
    for m in 0..=max_m {
        considered_visits(m, n, &mut table[m * n..(m + 1) * n]);
    }
    table
}

/// mctx `qtransform_completed_by_mix_value` for one node: fills `out[a]` (legal actions only) with
/// sigma(completed Q) = (c_visit + max N) * c_scale * rescaled completed Q.
///
/// `q[a]` is the child's Q when `visits[a] > 0`; unvisited legal actions get the mixed value
/// v_mix = (raw_value + sum N * (sum over visited pi q / sum over visited pi)) / (1 + sum N).
/// The completed Qs are rescaled to [0, 1] by their own min and max at this node, over a range of at
/// least `min_range` (0: mctx). With two legal actions mctx's rescale turns any Q difference, however
/// small against the heads' noise, into the full bonus, and the policy target, trained towards
/// logits + sigma, then runs away to whichever action the noise favoured; a floor in value units (pips)
/// makes the bonus proportional to the advantage while the advantage is small.
#[allow(clippy::too_many_arguments)]
pub fn completed_q_sigma(
    raw_value: f64,
    prior: &[f64],
    q: &[f64],
    visits: &[u32],
    legal: impl Fn(usize) -> bool,
    c_visit: f64,
    c_scale: f64,
    min_range: f64,
    out: &mut [f64],
) {
    let a = prior.len();
    let mut sum_n = 0.0;
    let mut max_n = 0u32;
    let mut sum_p = 0.0;
    let mut sum_pq = 0.0;
    for i in 0..a {
        if !legal(i) || visits[i] == 0 {
            continue;
        }
        sum_n += visits[i] as f64;
        max_n = max_n.max(visits[i]);
        let p = prior[i].max(f64::MIN_POSITIVE);
        sum_p += p;
        sum_pq += p * q[i];
    }
    let weighted_q = if sum_p > 0.0 { sum_pq / sum_p } else { 0.0 };
    let v_mix = (raw_value + sum_n * weighted_q) / (sum_n + 1.0);
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for i in 0..a {
        if !legal(i) {
            out[i] = 0.0;
            continue;
        }
        let c = if visits[i] > 0 { q[i] } else { v_mix };
        out[i] = c;
        lo = lo.min(c);
        hi = hi.max(c);
    }
    let scale = (c_visit + max_n as f64) * c_scale;
    let denom = (hi - lo).max(min_range).max(1e-8);
    for i in 0..a {
        if legal(i) {
            out[i] = scale * (out[i] - lo) / denom;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(m: usize, n: usize) -> Vec<u32> {
        let mut v = vec![0; n];
        considered_visits(m, n, &mut v);
        v
    }

    #[test]
    fn sequential_halving_schedule_matches_mctx() {
        // Values produced by mctx.seq_halving.get_sequence_of_considered_visits.
        assert_eq!(seq(1, 5), vec![0, 1, 2, 3, 4]);
        assert_eq!(seq(2, 6), vec![0, 0, 1, 1, 2, 2]);
        // m = 4, n = 8: one round over 4 actions, then the best 2 get two more visits each.
        assert_eq!(seq(4, 8), vec![0, 0, 0, 0, 1, 1, 2, 2]);
        // m = 4, n = 16: phase 1 gives each of 4 actions 2 visits (16 / (2*4)), phase 2 gives the
        // surviving 2 actions 4 visits each (16 / (2*2)).
        assert_eq!(seq(4, 16), vec![0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
        // m = 3 (log2 rounds up to 2 phases), n = 12: 2 visits each for 3 actions, then 3 for 2.
        assert_eq!(seq(3, 12), vec![0, 0, 0, 1, 1, 1, 2, 2, 3, 3, 4, 4]);
    }

    #[test]
    fn sequential_halving_spends_the_budget_on_ever_fewer_actions() {
        // Simulate the halving with fixed action scores: the per-action visit totals must halve the
        // field each phase and end with the best action visited most.
        let (m, n) = (8usize, 64usize);
        let s = seq(m, n);
        let score = [0.3, 0.9, 0.1, 0.5, 0.8, 0.2, 0.7, 0.4]; // best: 1, then 4, 6, 3
        let mut visits = [0u32; 8];
        for &cv in &s {
            let a = (0..m)
                .filter(|&a| visits[a] == cv)
                .max_by(|&x, &y| score[x].partial_cmp(&score[y]).unwrap())
                .expect("some action has the considered visit count");
            visits[a] += 1;
        }
        assert_eq!(visits.iter().sum::<u32>(), 64);
        // Phase 1: 8 actions x 2 visits; phase 2: the best 4 get 5 more; phases 3-4: the best 2 share
        // the rest. The two finalists end level, and the final choice among the most visited goes to
        // the higher score (as mctx does with the considered visit = max visits).
        assert_eq!(visits, [2, 21, 2, 7, 21, 2, 7, 2], "{visits:?}");
        let most = *visits.iter().max().unwrap();
        let chosen = (0..m)
            .filter(|&a| visits[a] == most)
            .max_by(|&x, &y| score[x].partial_cmp(&score[y]).unwrap())
            .unwrap();
        assert_eq!(chosen, 1);
    }

    #[test]
    fn completed_q_uses_mixed_value_for_unvisited_and_rescales() {
        let prior = [0.5, 0.25, 0.25];
        let q = [2.0, 0.0, 99.0]; // q[2] unvisited: ignored
        let visits = [3u32, 1, 0];
        let mut out = [0.0; 3];
        completed_q_sigma(1.0, &prior, &q, &visits, |_| true, 50.0, 0.1, 0.0, &mut out);
        // weighted q = (0.5*2 + 0.25*0)/0.75 = 4/3; v_mix = (1 + 4 * 4/3) / 5 = 19/15.
        // completed = [2, 0, 19/15], rescaled by [0, 2] -> [1, 0, 19/30]; scale (50 + 3) * 0.1 = 5.3.
        assert!((out[0] - 5.3).abs() < 1e-12);
        assert!(out[1].abs() < 1e-12);
        assert!((out[2] - 5.3 * 19.0 / 30.0).abs() < 1e-12, "{out:?}");
        // Illegal actions get 0 and do not enter the rescaling.
        completed_q_sigma(1.0, &prior, &q, &visits, |a| a != 1, 50.0, 0.1, 0.0, &mut out);
        assert_eq!(out[1], 0.0);
        assert!((out[0] - 5.3).abs() < 1e-12 && out[2].abs() < 1e-12, "{out:?}");
    }

    #[test]
    fn a_min_range_makes_the_bonus_proportional_to_a_small_advantage() {
        // Two legal actions 0.5 apart: mctx's own min-max gives the better one the whole bonus; over a
        // range of at least 10 it gets 0.5 / 10 of it. A spread wider than the floor rescales as before.
        let prior = [0.5, 0.5];
        let visits = [4u32, 4];
        let mut out = [0.0; 2];
        let scale = (50.0 + 4.0) * 0.1;
        completed_q_sigma(0.0, &prior, &[1.5, 1.0], &visits, |_| true, 50.0, 0.1, 0.0, &mut out);
        assert!((out[0] - scale).abs() < 1e-12 && out[1].abs() < 1e-12, "{out:?}");
        completed_q_sigma(0.0, &prior, &[1.5, 1.0], &visits, |_| true, 50.0, 0.1, 10.0, &mut out);
        assert!((out[0] - scale * 0.05).abs() < 1e-12 && out[1].abs() < 1e-12, "{out:?}");
        completed_q_sigma(0.0, &prior, &[21.0, 1.0], &visits, |_| true, 50.0, 0.1, 10.0, &mut out);
        assert!((out[0] - scale).abs() < 1e-12 && out[1].abs() < 1e-12, "{out:?}");
    }
}
