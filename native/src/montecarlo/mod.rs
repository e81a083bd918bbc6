//! Monte Carlo risk analysis of a trade list (Bandy's risk normalisation).
//!
//! The input is a list of fractional gains per unit of exposure (per trade, or per day marked to market).
//! An equity curve draws `draws` gains with replacement and compounds them at a fraction `f` of equity
//! (`equity += equity * f * gain`). From many such curves come the distributions of terminal wealth (TWR)
//! and of maximum drawdown, the position size whose tail drawdown matches a tolerance (safe-f), and the
//! 25th-percentile compound annual return at that size (CAR25).
//!
//! - [`curves`]: one batch of bootstrap curves, parallel over curves, each curve seeded from
//!   (seed, curve index) so the result is the same for every thread count.
//! - [`safef`]: the safe-f solver (Bandy's fixed-point update, bisection fallback) and CAR25.
//! - [`scenarios`]: stress transforms of the gain list.

pub mod curves;
pub mod safef;
pub mod scenarios;

/// Checks a gain list: non-empty, every value finite (a NaN would silently poison every curve it is drawn
/// into).
pub fn validate_gains(gains: &[f64]) -> Result<(), String> {
    if gains.is_empty() {
        return Err("gains: empty trade list (need at least one gain)".into());
    }
    for (i, &g) in gains.iter().enumerate() {
        if !g.is_finite() {
            return Err(format!("gains[{i}] is {g}: every gain must be a finite number"));
        }
    }
    Ok(())
}

/// Percentile `p` (0..=100) of ascending-sorted values, linearly interpolated between the two nearest
/// ranks. This is numpy's default (`method="linear"`), which Bandy's reference implementation uses.
pub fn percentile_sorted(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let rank = (p / 100.0).clamp(0.0, 1.0) * (n - 1) as f64;
    let lo = rank.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    let t = rank - lo as f64;
    lerp(sorted[lo], sorted[hi], t)
}

/// The same percentile without a full sort: two selections, O(n). Reorders `values`.
pub fn percentile_select(values: &mut [f64], p: f64) -> f64 {
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    let rank = (p / 100.0).clamp(0.0, 1.0) * (n - 1) as f64;
    let lo = rank.floor() as usize;
    let t = rank - lo as f64;
    let (_, &mut a, right) = values.select_nth_unstable_by(lo, f64::total_cmp);
    if t == 0.0 || right.is_empty() {
        return a;
    }
    let b = right.iter().copied().fold(f64::INFINITY, f64::min);
    lerp(a, b, t)
}

/// numpy's interpolation formula (exact at both ends, monotone).
#[inline]
fn lerp(a: f64, b: f64, t: f64) -> f64 {
    let d = b - a;
    if t >= 0.5 {
        b - d * (1.0 - t)
    } else {
        a + d * t
    }
}

/// Compound annual return in percent of a terminal wealth ratio reached after `draws` periods, with
/// `periods_per_year` periods in a year: `100 * (exp((periods_per_year / draws) * ln twr) - 1)`.
/// A ruined curve (twr <= 0) is -100 %.
pub fn car_from_twr(twr: f64, periods_per_year: f64, draws: usize) -> f64 {
    if twr <= 0.0 {
        return -100.0;
    }
    100.0 * (((periods_per_year / draws as f64) * twr.ln()).exp() - 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_matches_numpy_linear() {
        // np.percentile([1, 2, 3, 4], [0, 25, 50, 95, 100]) = [1, 1.75, 2.5, 3.85, 4]
        let v = [1.0, 2.0, 3.0, 4.0];
        let expect = [(0.0, 1.0), (25.0, 1.75), (50.0, 2.5), (95.0, 3.85), (100.0, 4.0)];
        for (p, e) in expect {
            assert!((percentile_sorted(&v, p) - e).abs() < 1e-12, "p{p}");
            let mut w = [4.0, 1.0, 3.0, 2.0];
            assert!((percentile_select(&mut w, p) - e).abs() < 1e-12, "select p{p}");
        }
        assert_eq!(percentile_sorted(&[7.0], 95.0), 7.0);
    }

    #[test]
    fn car_of_known_growth() {
        // Doubling over exactly one year of periods is +100 %; a flat curve 0 %; ruin -100 %.
        assert!((car_from_twr(2.0, 252.0, 252) - 100.0).abs() < 1e-9);
        assert!((car_from_twr(4.0, 252.0, 504) - 100.0).abs() < 1e-9);
        assert_eq!(car_from_twr(1.0, 252.0, 500), 0.0);
        assert_eq!(car_from_twr(0.0, 252.0, 500), -100.0);
    }

    #[test]
    fn gains_validation_names_the_problem() {
        assert!(validate_gains(&[]).unwrap_err().contains("empty"));
        assert!(validate_gains(&[0.1, f64::NAN]).unwrap_err().contains("gains[1]"));
        assert!(validate_gains(&[0.1, -0.2]).is_ok());
    }
}
