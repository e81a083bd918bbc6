//! One batch of bootstrap equity curves.
//!
//! Curve `c` draws its gains with the RNG stream `Rng::for_stream(seed, c)`, and chunk boundaries depend
//! only on the number of curves, so a batch is bit-identical whatever the thread count.

use crate::util::par;
use crate::util::rng::Rng;
use std::sync::Mutex;

/// Curves per unit of parallel work: small enough to balance 1,000 curves over a few cores, large enough
/// that taking a chunk costs nothing next to simulating it.
const CHUNK: usize = 16;

/// Per-draw equity multipliers `1 + f * gain`, computed once per batch so the inner loop only looks up
/// and multiplies.
pub fn fill_multipliers(gains: &[f64], f: f64, out: &mut Vec<f64>) {
    out.clear();
    out.extend(gains.iter().map(|&g| 1.0 + f * g));
}

/// Output buffers of one batch: per-curve terminal wealth ratio and max drawdown (each of length
/// `curves`), and optionally the equity paths, `curves` rows of `draws + 1` values starting at 1.
pub struct BatchOut<'a> {
    pub twr: &'a mut [f64],
    pub max_dd: &'a mut [f64],
    pub paths: Option<&'a mut [f64]>,
}

/// Simulates `out.twr.len()` curves of `draws` draws from the multipliers of [`fill_multipliers`].
/// Equity starts at 1, so the final equity is the TWR. Drawdown is measured after each draw as a
/// fraction of the running peak. A curve whose equity reaches 0 or below is ruined: equity stays 0 and
/// its drawdown is 1.
pub fn simulate(mult: &[f64], draws: usize, seed: u64, threads: usize, out: BatchOut<'_>) {
    let curves = out.twr.len();
    assert_eq!(out.max_dd.len(), curves, "max_dd length must equal the number of curves");
    assert!(!mult.is_empty(), "simulate needs at least one gain");
    let row = draws + 1;
    // Each chunk's output slices go behind their own (never contended) mutex: disjoint mutable access
    // from the worker threads without unsafe code.
    let mut path_chunks: Vec<Option<&mut [f64]>> = match out.paths {
        Some(p) => {
            assert_eq!(p.len(), curves * row, "paths length must be curves * (draws + 1)");
            p.chunks_mut(CHUNK * row).map(Some).collect()
        }
        None => Vec::new(),
    };
    let n_chunks = curves.div_ceil(CHUNK);
    path_chunks.resize_with(n_chunks, || None);
    let slots: Vec<Mutex<(&mut [f64], &mut [f64], Option<&mut [f64]>)>> = out
        .twr
        .chunks_mut(CHUNK)
        .zip(out.max_dd.chunks_mut(CHUNK))
        .zip(path_chunks)
        .map(|((t, d), p)| Mutex::new((t, d, p)))
        .collect();
    par::for_each_chunk(curves, CHUNK, threads, |ci, start, _end| {
        let mut guard = slots[ci].lock().unwrap_or_else(|e| e.into_inner());
        let (twr, dd, paths) = &mut *guard;
        let mut k = 0;
        if paths.is_none() {
            while k + LANES <= twr.len() {
                let mut rngs: [Rng; LANES] = std::array::from_fn(|j| Rng::for_stream(seed, (start + k + j) as u64));
                let (t, d) = run_lanes(mult, draws, &mut rngs);
                twr[k..k + LANES].copy_from_slice(&t);
                dd[k..k + LANES].copy_from_slice(&d);
                k += LANES;
            }
        }
        for k in k..twr.len() {
            let mut rng = Rng::for_stream(seed, (start + k) as u64);
            let (t, d) = match paths.as_deref_mut() {
                Some(p) => run_curve::<true>(mult, draws, &mut rng, &mut p[k * row..(k + 1) * row]),
                None => run_curve::<false>(mult, draws, &mut rng, &mut []),
            };
            twr[k] = t;
            dd[k] = d;
        }
    });
}

// Drawdown without a division: the ratio r = equity / running peak follows r' = min(1, r * m) (a new
// peak resets it to 1; otherwise equity moves by m and the peak stays), and max drawdown is 1 - min r.
// Equity and r are two short chains of dependent multiply/min operations; the loops are branch-free
// because whether a draw makes a new peak is a coin toss the CPU cannot predict. Equity is clamped at 0
// so a ruined curve stays ruined; its drawdown is 1 whatever r did.

/// One curve; `PATH` selects at compile time whether the equity path is written.
#[inline(always)]
fn run_curve<const PATH: bool>(mult: &[f64], draws: usize, rng: &mut Rng, path: &mut [f64]) -> (f64, f64) {
    let n = mult.len() as u64;
    let mut equity = 1.0f64;
    let mut ratio = 1.0f64;
    let mut min_ratio = 1.0f64;
    if PATH {
        path[0] = 1.0;
    }
    for i in 0..draws {
        let m = mult[rng.below(n) as usize];
        equity = (equity * m).max(0.0);
        ratio = (ratio * m).min(1.0);
        min_ratio = min_ratio.min(ratio);
        if PATH {
            path[i + 1] = equity;
        }
    }
    finish(equity, min_ratio)
}

#[inline(always)]
fn finish(equity: f64, min_ratio: f64) -> (f64, f64) {
    if equity > 0.0 {
        (equity, 1.0 - min_ratio)
    } else {
        (0.0, 1.0)
    }
}

/// Curves simulated together by [`run_lanes`].
const LANES: usize = 2;

/// `LANES` curves at once, each with its own stream and exactly the arithmetic of [`run_curve`] (so the
/// results are identical): interleaving independent curves lets the CPU overlap their latencies.
#[inline(always)]
fn run_lanes(mult: &[f64], draws: usize, rngs: &mut [Rng; LANES]) -> ([f64; LANES], [f64; LANES]) {
    let n = mult.len() as u64;
    let mut equity = [1.0f64; LANES];
    let mut ratio = [1.0f64; LANES];
    let mut min_ratio = [1.0f64; LANES];
    for _ in 0..draws {
        for j in 0..LANES {
            let m = mult[rngs[j].below(n) as usize];
            equity[j] = (equity[j] * m).max(0.0);
            ratio[j] = (ratio[j] * m).min(1.0);
            min_ratio[j] = min_ratio[j].min(ratio[j]);
        }
    }
    let mut twr = [0.0; LANES];
    let mut dd = [0.0; LANES];
    for j in 0..LANES {
        (twr[j], dd[j]) = finish(equity[j], min_ratio[j]);
    }
    (twr, dd)
}

/// Convenience: a whole batch at fraction `f` from raw gains (allocates the multipliers).
pub fn bootstrap(gains: &[f64], f: f64, draws: usize, seed: u64, threads: usize, out: BatchOut<'_>) {
    let mut mult = Vec::with_capacity(gains.len());
    fill_multipliers(gains, f, &mut mult);
    simulate(&mult, draws, seed, threads, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(gains: &[f64], f: f64, draws: usize, curves: usize, seed: u64, threads: usize) -> (Vec<f64>, Vec<f64>) {
        let mut twr = vec![0.0; curves];
        let mut dd = vec![0.0; curves];
        bootstrap(gains, f, draws, seed, threads, BatchOut { twr: &mut twr, max_dd: &mut dd, paths: None });
        (twr, dd)
    }

    #[test]
    fn constant_gain_has_known_twr_and_no_drawdown() {
        let (twr, dd) = batch(&[0.002; 7], 1.5, 300, 50, 9, 2);
        let exact = (1.0 + 1.5 * 0.002f64).powi(300);
        for (&t, &d) in twr.iter().zip(&dd) {
            assert!((t / exact - 1.0).abs() < 1e-12, "{t} vs {exact}");
            assert_eq!(d, 0.0);
        }
    }

    #[test]
    fn constant_loss_drawdown_is_one_minus_twr() {
        let (twr, dd) = batch(&[-0.01], 1.0, 100, 4, 1, 1);
        let exact = 0.99f64.powi(100);
        assert!((twr[0] / exact - 1.0).abs() < 1e-12);
        assert!((dd[0] - (1.0 - exact)).abs() < 1e-12);
    }

    #[test]
    fn ruin_is_absorbing() {
        // At f = 2 a -60 % gain takes equity below zero: the curve is ruined, not negative.
        let (twr, dd) = batch(&[-0.6], 2.0, 10, 3, 1, 1);
        assert_eq!(twr, vec![0.0; 3]);
        assert_eq!(dd, vec![1.0; 3]);
    }

    #[test]
    fn thread_count_does_not_change_results() {
        let gains: Vec<f64> = (0..97).map(|i| ((i * 37 % 97) as f64 - 45.0) * 1e-3).collect();
        let a = batch(&gains, 2.0, 250, 333, 42, 1);
        for threads in [2, 3, 8] {
            assert_eq!(a, batch(&gains, 2.0, 250, 333, 42, threads), "threads {threads}");
        }
        assert_ne!(a.0, batch(&gains, 2.0, 250, 333, 43, 1).0, "another seed gives other curves");
    }

    #[test]
    fn paths_agree_with_summaries() {
        let gains = [0.03, -0.02, 0.01, -0.04];
        let (curves, draws) = (40, 25);
        let mut twr = vec![0.0; curves];
        let mut dd = vec![0.0; curves];
        let mut paths = vec![f64::NAN; curves * (draws + 1)];
        bootstrap(&gains, 1.0, draws, 5, 2, BatchOut { twr: &mut twr, max_dd: &mut dd, paths: Some(&mut paths) });
        let (twr2, dd2) = batch(&gains, 1.0, draws, curves, 5, 1);
        assert_eq!(twr, twr2, "writing paths must not change the draws");
        assert_eq!(dd, dd2);
        for c in 0..curves {
            let p = &paths[c * (draws + 1)..(c + 1) * (draws + 1)];
            assert_eq!(p[0], 1.0);
            assert_eq!(p[draws], twr[c]);
            let mut peak: f64 = 1.0;
            let mut m: f64 = 0.0;
            for &e in p {
                peak = peak.max(e);
                m = m.max((peak - e) / peak);
            }
            assert!((m - dd[c]).abs() < 1e-13);
        }
    }
}
