//! Stress transforms of a gain list. Each returns a new list; the caller runs the same Monte Carlo on it
//! and reports it beside the original. Forecast-length scenarios (longer forecast, early stop) change
//! only the number of draws and need no transform here.

use crate::util::rng::Rng;

/// Scenario kinds across the ABI.
pub const DROP_RANDOM: i32 = 1;
pub const DROP_BEST_WINNERS: i32 = 2;
pub const ADVERSE: i32 = 3;

/// Removes `floor(fraction * n)` trades chosen uniformly at random (seeded), keeping the order of the
/// rest. At least one trade always remains.
pub fn drop_random(gains: &[f64], fraction: f64, seed: u64, out: &mut Vec<f64>) -> Result<(), String> {
    check_fraction(fraction)?;
    let n = gains.len();
    let k = ((fraction * n as f64).floor() as usize).min(n.saturating_sub(1));
    // Partial Fisher-Yates over indices picks k distinct trades to drop.
    let mut idx: Vec<usize> = (0..n).collect();
    let mut rng = Rng::new(seed);
    for i in 0..k {
        let j = i + rng.below((n - i) as u64) as usize;
        idx.swap(i, j);
    }
    let mut drop = vec![false; n];
    for &i in &idx[..k] {
        drop[i] = true;
    }
    out.clear();
    out.extend(gains.iter().zip(&drop).filter(|(_, &d)| !d).map(|(&g, _)| g));
    Ok(())
}

/// Removes the best `ceil(fraction * winners)` winning trades (gain > 0), keeping the order of the
/// rest. Rounding up errs on the harsh side: any winner at all loses at least its best one. Fails if
/// nothing would remain.
pub fn drop_best_winners(gains: &[f64], fraction: f64, out: &mut Vec<f64>) -> Result<(), String> {
    check_fraction(fraction)?;
    let mut winners: Vec<usize> = (0..gains.len()).filter(|&i| gains[i] > 0.0).collect();
    let k = ((fraction * winners.len() as f64).ceil() as usize).min(winners.len());
    // Best first; ties broken by position so the result is deterministic.
    winners.sort_by(|&a, &b| gains[b].total_cmp(&gains[a]).then(a.cmp(&b)));
    let mut drop = vec![false; gains.len()];
    for &i in &winners[..k] {
        drop[i] = true;
    }
    out.clear();
    out.extend(gains.iter().zip(&drop).filter(|(_, &d)| !d).map(|(&g, _)| g));
    if out.is_empty() {
        return Err("drop-best-winners leaves no trades (every trade is a winner and all were dropped)".into());
    }
    Ok(())
}

/// Worsens every trade by `delta` (in gain units): `g - delta`.
pub fn adverse(gains: &[f64], delta: f64, out: &mut Vec<f64>) -> Result<(), String> {
    if !delta.is_finite() {
        return Err(format!("adverse amount must be a finite number, got {delta}"));
    }
    out.clear();
    out.extend(gains.iter().map(|&g| g - delta));
    Ok(())
}

fn check_fraction(fraction: f64) -> Result<(), String> {
    if !(0.0..1.0).contains(&fraction) {
        return Err(format!("scenario fraction must be in [0, 1), got {fraction}"));
    }
    Ok(())
}

/// Dispatch by ABI kind.
pub fn transform(kind: i32, param: f64, gains: &[f64], seed: u64, out: &mut Vec<f64>) -> Result<(), String> {
    super::validate_gains(gains)?;
    match kind {
        DROP_RANDOM => drop_random(gains, param, seed, out),
        DROP_BEST_WINNERS => drop_best_winners(gains, param, out),
        ADVERSE => adverse(gains, param, out),
        _ => Err(format!("unknown scenario kind {kind} (expected 1 drop-random, 2 drop-best-winners, 3 adverse)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drop_random_removes_a_tenth_reproducibly() {
        let g: Vec<f64> = (0..1000).map(|i| i as f64).collect();
        let mut a = Vec::new();
        drop_random(&g, 0.1, 3, &mut a).unwrap();
        assert_eq!(a.len(), 900);
        assert!(a.windows(2).all(|w| w[0] < w[1]), "order kept, no duplicates");
        let mut b = Vec::new();
        drop_random(&g, 0.1, 3, &mut b).unwrap();
        assert_eq!(a, b);
        drop_random(&g, 0.1, 4, &mut b).unwrap();
        assert_ne!(a, b);
        drop_random(&[1.0], 0.5, 1, &mut b).unwrap();
        assert_eq!(b, vec![1.0]);
    }

    #[test]
    fn drop_best_winners_removes_the_top_fifth_of_winners() {
        // 5 winners → the best 1 goes; losers and flats untouched.
        let g = [0.5, -0.1, 0.2, 0.0, 0.9, 0.3, -0.4, 0.1];
        let mut out = Vec::new();
        drop_best_winners(&g, 0.2, &mut out).unwrap();
        assert_eq!(out, vec![0.5, -0.1, 0.2, 0.0, 0.3, -0.4, 0.1]);
        // 10 winners → 2 go.
        let g: Vec<f64> = (1..=10).map(|i| i as f64).chain([-1.0]).collect();
        drop_best_winners(&g, 0.2, &mut out).unwrap();
        assert_eq!(out, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, -1.0]);
        assert!(drop_best_winners(&[0.3], 0.2, &mut out).is_err());
    }

    #[test]
    fn adverse_shifts_every_trade() {
        let mut out = Vec::new();
        adverse(&[0.01, -0.02], 0.001, &mut out).unwrap();
        assert_eq!(out, vec![0.01 - 0.001, -0.02 - 0.001]);
        assert!(transform(9, 0.0, &[0.1], 1, &mut out).unwrap_err().contains("unknown scenario"));
    }
}
