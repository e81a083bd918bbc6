//! safe-f and CAR25, as in Bandy's risk normalisation (`../shared/fixtures/bandy/README.md`).
//!
//! safe-f is the fraction at which the `100 - tail_pct` percentile of the max drawdowns of `curves`
//! bootstrap curves equals the trader's drawdown tolerance. Starting from f = 1 it is found with Bandy's
//! fixed-point update `f = f * tolerance / tail_risk`, drawing fresh curves at every step as he does,
//! until `|tail_risk - tolerance| < accuracy`. If the update stalls or oscillates (tail risk not close to
//! linear in f), or runs out of iterations, a bisection on common random numbers (one fixed set of curves,
//! so the tail risk is a deterministic, continuous function of f) finishes the job. CAR25 comes from a
//! further fresh batch at safe-f.

use super::curves::{fill_multipliers, simulate, BatchOut};
use super::{car_from_twr, percentile_select, validate_gains};
use crate::util::rng::stream_seed;
use std::time::Instant;

/// How a repeat's safe-f was obtained (exported as a number across the ABI).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum SafeFStatus {
    /// Bandy's fixed-point update met the accuracy.
    Converged = 0,
    /// The fixed-point update stalled or ran out of iterations; bisection met the accuracy.
    Bisection = 1,
    /// No gain is positive: every position loses, so safe-f is 0 (and CAR25 is 0: no trading).
    NoPositiveGains = 2,
    /// The tail drawdown stays below the tolerance up to `max_f` (e.g. no losing trade at all): safe-f is
    /// reported as `max_f`, a cap rather than a solution.
    Unbounded = 3,
    /// Neither method met the accuracy within its iteration limits: the closest f found is reported.
    NotConverged = 4,
}

impl SafeFStatus {
    pub fn name(self) -> &'static str {
        match self {
            SafeFStatus::Converged => "converged",
            SafeFStatus::Bisection => "bisection",
            SafeFStatus::NoPositiveGains => "no_positive_gains",
            SafeFStatus::Unbounded => "unbounded",
            SafeFStatus::NotConverged => "not_converged",
        }
    }
}

#[derive(Clone, Debug)]
pub struct SafeFParams {
    /// Forecast length: draws per curve.
    pub draws: usize,
    /// Curves per distribution (Bandy: 1,000).
    pub curves: usize,
    /// Drawdown tolerance as a fraction of peak equity, in (0, 1) (Bandy: 0.10).
    pub tolerance: f64,
    /// Tail percentage: tail risk is the `100 - tail_pct` percentile of max drawdown (Bandy: 5).
    pub tail_pct: f64,
    /// Stop when |tail risk - tolerance| < accuracy (Bandy: 0.003).
    pub accuracy: f64,
    /// Fixed-point iterations before falling back to bisection (the bisection has as many again).
    pub max_iter: usize,
    /// Periods per year for CAR (252 trading days when a gain is a day).
    pub periods_per_year: f64,
    /// Largest fraction considered (a leverage cap); see [`SafeFStatus::Unbounded`].
    pub max_f: f64,
    /// Worker threads (0 = all cores); never changes the result.
    pub threads: usize,
}

impl Default for SafeFParams {
    fn default() -> Self {
        SafeFParams {
            draws: 500,
            curves: 1000,
            tolerance: 0.10,
            tail_pct: 5.0,
            accuracy: 0.003,
            max_iter: 50,
            periods_per_year: 252.0,
            max_f: 100.0,
            threads: 0,
        }
    }
}

impl SafeFParams {
    pub fn validate(&self) -> Result<(), String> {
        if self.draws < 1 {
            return Err(format!("forecast must be at least 1 draw, got {}", self.draws));
        }
        if self.curves < 1 {
            return Err(format!("curves must be at least 1, got {}", self.curves));
        }
        if !(self.tolerance > 0.0 && self.tolerance < 1.0) {
            return Err(format!("drawdown tolerance must be in (0, 1), got {}", self.tolerance));
        }
        if !(self.tail_pct > 0.0 && self.tail_pct < 100.0) {
            return Err(format!("tail percentage must be in (0, 100), got {}", self.tail_pct));
        }
        if !(self.accuracy > 0.0 && self.accuracy < self.tolerance) {
            return Err(format!("accuracy must be in (0, tolerance = {}), got {}", self.tolerance, self.accuracy));
        }
        if self.max_iter < 1 {
            return Err("max iterations must be at least 1".into());
        }
        if !(self.periods_per_year > 0.0 && self.periods_per_year.is_finite()) {
            return Err(format!("periods per year must be a positive number, got {}", self.periods_per_year));
        }
        if !(self.max_f > 0.0 && self.max_f.is_finite()) {
            return Err(format!("max f must be a positive number, got {}", self.max_f));
        }
        Ok(())
    }
}

/// Result of solving for f (independent of how the tail risk is evaluated).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Solved {
    pub f: f64,
    /// Tail drawdown measured at `f` by the last evaluation.
    pub tail_risk: f64,
    /// Tail-risk evaluations (batches of curves) used.
    pub evaluations: usize,
    pub status: SafeFStatus,
}

/// Batch keys: the fixed-point steps use keys 0, 1, 2, …; the bisection and CAR25 batches use keys beyond
/// any step count, so adding an iteration never changes them.
const KEY_BISECTION: u64 = 1 << 40;
const KEY_CAR: u64 = (1 << 40) + 1;
/// Growth factor of f while no drawdown at all shows up in the tail (the update would divide by zero).
const GROW: f64 = 4.0;

/// Solves `tail(f) = tolerance` for f. `tail(f, key)` measures the tail drawdown at f on the batch of
/// curves named by `key`; a repeated key must give the same curves (common random numbers).
pub fn solve<T: FnMut(f64, u64) -> f64>(mut tail: T, p: &SafeFParams) -> Solved {
    let tol = p.tolerance;
    let mut f = 1.0f64.min(p.max_f);
    // Bracket seen so far: below has tail < tol, above has tail > tol (noisy across fresh batches, so
    // only a hint for the bisection, which re-checks it on its own batch).
    let mut below = 0.0f64;
    let mut above = f64::INFINITY;
    let mut evaluations = 0;
    let mut prev_err = f64::INFINITY;
    let mut stalls = 0;
    let mut closest = (f64::INFINITY, f, 0.0);
    for step in 0..p.max_iter {
        let t = tail(f, step as u64);
        evaluations += 1;
        if (t - tol).abs() < closest.0 {
            closest = ((t - tol).abs(), f, t);
        }
        if (t - tol).abs() < p.accuracy {
            return Solved { f, tail_risk: t, evaluations, status: SafeFStatus::Converged };
        }
        if t < tol {
            below = below.max(f);
        } else {
            above = above.min(f);
        }
        let next = if t <= 0.0 { f * GROW } else { f * tol / t };
        if next >= p.max_f && t < tol {
            if f >= p.max_f {
                return Solved { f: p.max_f, tail_risk: t, evaluations, status: SafeFStatus::Unbounded };
            }
            f = p.max_f;
            continue;
        }
        // Bandy's update converges when tail risk grows roughly linearly with f; if the error in log
        // terms stops shrinking for two steps in a row, it is oscillating or wandering in noise.
        if t > 0.0 {
            let err = (t / tol).ln().abs();
            stalls = if err > 0.9 * prev_err { stalls + 1 } else { 0 };
            prev_err = err;
            if stalls >= 2 {
                break;
            }
        }
        f = next;
    }
    bisect(&mut tail, p, below, above, evaluations, closest)
}

fn bisect<T: FnMut(f64, u64) -> f64>(
    tail: &mut T,
    p: &SafeFParams,
    below_hint: f64,
    above_hint: f64,
    mut evaluations: usize,
    mut closest: (f64, f64, f64),
) -> Solved {
    let tol = p.tolerance;
    let mut eval = |f: f64, evaluations: &mut usize, closest: &mut (f64, f64, f64)| {
        let t = tail(f, KEY_BISECTION);
        *evaluations += 1;
        if (t - tol).abs() < closest.0 {
            *closest = ((t - tol).abs(), f, t);
        }
        t
    };
    // f = 0 has no drawdown, so 0 always brackets from below; check the hints on this batch.
    let mut lo = 0.0;
    if below_hint > 0.0 && eval(below_hint, &mut evaluations, &mut closest) < tol {
        lo = below_hint;
    }
    // Fresh batches are noisy: hints from different batches may even cross. Keep only a consistent pair.
    if above_hint <= lo {
        lo = 0.0;
    }
    let mut hi = if above_hint.is_finite() { above_hint } else { (lo * 2.0).max(1.0).min(p.max_f) };
    let mut t_hi = eval(hi, &mut evaluations, &mut closest);
    let budget = evaluations + 2 * p.max_iter.max(60);
    while t_hi < tol {
        if (t_hi - tol).abs() < p.accuracy {
            return Solved { f: hi, tail_risk: t_hi, evaluations, status: SafeFStatus::Bisection };
        }
        if hi >= p.max_f {
            return Solved { f: p.max_f, tail_risk: t_hi, evaluations, status: SafeFStatus::Unbounded };
        }
        lo = hi;
        hi = (hi * 2.0).min(p.max_f);
        t_hi = eval(hi, &mut evaluations, &mut closest);
    }
    while evaluations < budget {
        let mid = 0.5 * (lo + hi);
        let t = eval(mid, &mut evaluations, &mut closest);
        if (t - tol).abs() < p.accuracy {
            return Solved { f: mid, tail_risk: t, evaluations, status: SafeFStatus::Bisection };
        }
        if t < tol {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-12 * hi {
            break;
        }
    }
    Solved { f: closest.1, tail_risk: closest.2, evaluations, status: SafeFStatus::NotConverged }
}

/// One repeat's figures.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RepeatResult {
    pub safe_f: f64,
    /// 25th percentile of CAR (%) at safe-f, annualised from the forecast length.
    pub car25: f64,
    /// 25th percentile of TWR at safe-f.
    pub twr25: f64,
    /// Tail drawdown measured by the solver at safe-f.
    pub tail_risk: f64,
    /// Tail drawdown of the (independent) CAR25 batch at safe-f: an out-of-sample check of the solve.
    pub tail_risk_check: f64,
    pub evaluations: usize,
    pub status: SafeFStatus,
    pub seconds: f64,
}

/// Number of f64 fields per repeat in the flat layout used across the ABI.
pub const REPEAT_FIELDS: usize = 8;

impl RepeatResult {
    /// `[safe_f, car25, twr25, tail_risk, tail_risk_check, evaluations, status, seconds]`
    pub fn write(&self, out: &mut [f64]) {
        out[..REPEAT_FIELDS].copy_from_slice(&[
            self.safe_f,
            self.car25,
            self.twr25,
            self.tail_risk,
            self.tail_risk_check,
            self.evaluations as f64,
            self.status as i32 as f64,
            self.seconds,
        ]);
    }
}

/// Seed of the batch `key` of repeat `repeat`: every batch has its own streams, one per curve.
pub fn batch_seed(seed: u64, repeat: u64, key: u64) -> u64 {
    stream_seed(stream_seed(seed, repeat), key)
}

/// Reusable buffers of one solve (no allocation inside the iterations).
pub struct Workspace {
    mult: Vec<f64>,
    twr: Vec<f64>,
    dd: Vec<f64>,
}

impl Workspace {
    pub fn new(n_gains: usize, curves: usize) -> Self {
        Workspace { mult: Vec::with_capacity(n_gains), twr: vec![0.0; curves], dd: vec![0.0; curves] }
    }
}

/// One repeat: solve safe-f, then CAR25 on a fresh batch at safe-f. The CAR25 batch's per-curve TWR and
/// max drawdown are copied into `twr_out` / `dd_out` when given (each `curves` long).
pub fn safe_f_repeat(
    gains: &[f64],
    p: &SafeFParams,
    seed: u64,
    repeat: u64,
    ws: &mut Workspace,
    twr_out: Option<&mut [f64]>,
    dd_out: Option<&mut [f64]>,
) -> RepeatResult {
    let start = Instant::now();
    let max_gain = gains.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let min_gain = gains.iter().copied().fold(f64::INFINITY, f64::min);
    let run = |ws: &mut Workspace, f: f64, key: u64| {
        fill_multipliers(gains, f, &mut ws.mult);
        let out = BatchOut { twr: &mut ws.twr, max_dd: &mut ws.dd, paths: None };
        simulate(&ws.mult, p.draws, batch_seed(seed, repeat, key), p.threads, out);
    };
    let solved = if max_gain <= 0.0 {
        // Every draw loses or is flat: any position shrinks equity, so the only safe size is none.
        Solved { f: 0.0, tail_risk: 0.0, evaluations: 0, status: SafeFStatus::NoPositiveGains }
    } else if min_gain >= 0.0 {
        // No losing draw, hence no drawdown at any f.
        Solved { f: p.max_f, tail_risk: 0.0, evaluations: 0, status: SafeFStatus::Unbounded }
    } else {
        solve(
            |f, key| {
                run(ws, f, key);
                percentile_select(&mut ws.dd, 100.0 - p.tail_pct)
            },
            p,
        )
    };
    run(ws, solved.f, KEY_CAR);
    if let Some(o) = twr_out {
        o.copy_from_slice(&ws.twr);
    }
    if let Some(o) = dd_out {
        o.copy_from_slice(&ws.dd);
    }
    let tail_risk_check = percentile_select(&mut ws.dd, 100.0 - p.tail_pct);
    let twr25 = percentile_select(&mut ws.twr, 25.0);
    RepeatResult {
        safe_f: solved.f,
        car25: car_from_twr(twr25, p.periods_per_year, p.draws),
        twr25,
        tail_risk: solved.tail_risk,
        tail_risk_check,
        evaluations: solved.evaluations,
        status: solved.status,
        seconds: start.elapsed().as_secs_f64(),
    }
}

/// `repeats` independent repeats (repeat r uses streams derived from (seed, r)). `results` gets one entry
/// per repeat; `twr_out` / `dd_out`, when given, get each repeat's CAR25 batch (`repeats * curves`).
pub fn safe_f(
    gains: &[f64],
    p: &SafeFParams,
    repeats: usize,
    seed: u64,
    results: &mut Vec<RepeatResult>,
    mut twr_out: Option<&mut [f64]>,
    mut dd_out: Option<&mut [f64]>,
) -> Result<(), String> {
    validate_gains(gains)?;
    p.validate()?;
    if repeats < 1 {
        return Err(format!("repeats must be at least 1, got {repeats}"));
    }
    for (name, o) in [("twr_out", twr_out.as_deref()), ("dd_out", dd_out.as_deref())] {
        if let Some(o) = o {
            if o.len() != repeats * p.curves {
                return Err(format!("{name}: length {} but repeats * curves = {}", o.len(), repeats * p.curves));
            }
        }
    }
    let mut ws = Workspace::new(gains.len(), p.curves);
    results.clear();
    for r in 0..repeats {
        let rows = r * p.curves..(r + 1) * p.curves;
        let t = twr_out.as_deref_mut().map(|o| &mut o[rows.clone()]);
        let d = dd_out.as_deref_mut().map(|o| &mut o[rows]);
        results.push(safe_f_repeat(gains, p, seed, r as u64, &mut ws, t, d));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> SafeFParams {
        SafeFParams { threads: 2, ..SafeFParams::default() }
    }

    #[test]
    fn fixed_point_solves_a_linear_tail() {
        // tail = 0.04 f: the update lands on f = 2.5 in one step.
        let s = solve(|f, _| 0.04 * f, &params());
        assert_eq!(s.status, SafeFStatus::Converged);
        assert!((s.f - 2.5).abs() < 1e-12);
        assert_eq!(s.evaluations, 2);
    }

    #[test]
    fn oscillating_update_falls_back_to_bisection() {
        // tail = f^3 / 100: the update multiplies the log error by -2 every step (diverging oscillation).
        let s = solve(|f, _| f * f * f / 100.0, &params());
        assert_eq!(s.status, SafeFStatus::Bisection);
        assert!((s.tail_risk - 0.10).abs() < 0.003);
        assert!((s.f - 10f64.cbrt()).abs() / 10f64.cbrt() < 0.01, "f = {}", s.f);
        assert!(s.evaluations < 60, "{} evaluations", s.evaluations);
    }

    #[test]
    fn iteration_limit_falls_back_to_bisection() {
        // A square root tail converges slowly; with one fixed-point step the bisection must finish it.
        let p = SafeFParams { max_iter: 1, ..params() };
        let s = solve(|f, _| 0.01 * f.sqrt(), &p);
        assert_eq!(s.status, SafeFStatus::Bisection);
        assert!((s.tail_risk - 0.10).abs() < 0.003);
    }

    #[test]
    fn tail_below_tolerance_everywhere_is_unbounded() {
        let s = solve(|_, _| 0.0, &params());
        assert_eq!(s.status, SafeFStatus::Unbounded);
        assert_eq!(s.f, 100.0);
        let s = solve(|f, _| 0.0005 * f, &params());
        assert_eq!(s.status, SafeFStatus::Unbounded);
        assert_eq!(s.f, 100.0);
    }

    #[test]
    fn solve_on_real_curves_meets_tolerance_and_is_reproducible() {
        let gains: Vec<f64> = (0..200).map(|i| ((i * 73 % 200) as f64 - 90.0) * 1e-4).collect();
        let p = params();
        let mut a = Vec::new();
        safe_f(&gains, &p, 3, 7, &mut a, None, None).unwrap();
        for r in &a {
            assert!(matches!(r.status, SafeFStatus::Converged | SafeFStatus::Bisection), "{r:?}");
            assert!((r.tail_risk - 0.10).abs() < 0.003);
            // An independent batch at the solved f sees about the same tail.
            assert!((r.tail_risk_check - 0.10).abs() < 0.02, "{r:?}");
        }
        let mut b = Vec::new();
        safe_f(&gains, &SafeFParams { threads: 1, ..p.clone() }, 3, 7, &mut b, None, None).unwrap();
        for (x, y) in a.iter().zip(&b) {
            assert_eq!((x.safe_f, x.car25, x.twr25, x.evaluations), (y.safe_f, y.car25, y.twr25, y.evaluations));
        }
        assert_ne!(a[0].safe_f, a[1].safe_f, "repeats draw different curves");
    }

    #[test]
    fn degenerate_gain_lists_do_not_loop() {
        let mut r = Vec::new();
        safe_f(&[-0.01, -0.002, 0.0], &params(), 2, 1, &mut r, None, None).unwrap();
        assert!(r.iter().all(|x| x.status == SafeFStatus::NoPositiveGains && x.safe_f == 0.0 && x.car25 == 0.0));
        safe_f(&[0.001; 10], &params(), 1, 1, &mut r, None, None).unwrap();
        assert_eq!(r[0].status, SafeFStatus::Unbounded);
        assert_eq!(r[0].safe_f, 100.0);
        assert_eq!(r[0].tail_risk_check, 0.0);
    }

    #[test]
    fn bad_parameters_are_named() {
        let mut r = Vec::new();
        let g = [0.01, -0.01];
        let cases: Vec<(SafeFParams, &str)> = vec![
            (SafeFParams { draws: 0, ..params() }, "forecast"),
            (SafeFParams { curves: 0, ..params() }, "curves"),
            (SafeFParams { tolerance: 1.0, ..params() }, "tolerance"),
            (SafeFParams { tolerance: 0.0, ..params() }, "tolerance"),
            (SafeFParams { tail_pct: 100.0, ..params() }, "tail"),
            (SafeFParams { tail_pct: f64::NAN, ..params() }, "tail"),
        ];
        for (p, word) in cases {
            let e = safe_f(&g, &p, 1, 1, &mut r, None, None).unwrap_err();
            assert!(e.contains(word), "{e}");
        }
        assert!(safe_f(&g, &params(), 0, 1, &mut r, None, None).unwrap_err().contains("repeats"));
        assert!(safe_f(&[], &params(), 1, 1, &mut r, None, None).unwrap_err().contains("empty"));
    }
}
