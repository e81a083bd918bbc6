//! Value/reward support helpers shared by training and search (MuZero appendix F): the invertible
//! transform h(x) = sign(x)(sqrt(|x|+1)-1) + eps*x that squashes large returns, its inverse, and the
//! "two-hot" encoding of a scalar over an evenly spaced support (default [-300, 300], 601 bins) with
//! the matching decoding (expectation over the support). Keeping them here means the network targets
//! (TypeScript, training) and the scalars the search backs up are produced by one implementation.

/// MuZero's epsilon in h(x).
pub const H_EPS: f64 = 0.001;

/// h(x) = sign(x)(sqrt(|x| + 1) - 1) + eps x.
#[inline]
pub fn h(x: f64) -> f64 {
    x.signum() * ((x.abs() + 1.0).sqrt() - 1.0) + H_EPS * x
}

/// The inverse of `h`. Closed form from solving the quadratic in sqrt(|x|+1); `sqrt(1+y)-1` is
/// written as `y / (sqrt(1+y)+1)` so that small values keep full precision (round trip < 1e-9).
#[inline]
pub fn h_inv(y: f64) -> f64 {
    if y == 0.0 {
        return 0.0;
    }
    let a = y.abs();
    let t = 4.0 * H_EPS * (a + 1.0 + H_EPS);
    let root = t / ((1.0 + t).sqrt() + 1.0); // sqrt(1 + t) - 1
    let s = root / (2.0 * H_EPS); // = sqrt(|x| + 1)
    // s^2 - 1 = (s - 1)(s + 1), again to keep precision near zero.
    y.signum() * ((s - 1.0) * (s + 1.0))
}

/// An evenly spaced support: `bins` points from `lo` to `hi` inclusive.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Support {
    pub lo: f64,
    pub hi: f64,
    pub bins: usize,
}

impl Support {
    pub fn new(lo: f64, hi: f64, bins: usize) -> Result<Self, String> {
        if !(lo.is_finite() && hi.is_finite()) || lo >= hi {
            return Err(format!("support: need finite lo < hi, got lo={lo} hi={hi}"));
        }
        if bins < 2 {
            return Err(format!("support: need at least 2 bins, got {bins}"));
        }
        Ok(Support { lo, hi, bins })
    }

    #[inline]
    pub fn step(&self) -> f64 {
        (self.hi - self.lo) / (self.bins - 1) as f64
    }

    #[inline]
    pub fn point(&self, i: usize) -> f64 {
        self.lo + self.step() * i as f64
    }

    /// Writes the two-hot encoding of `x` (clamped to the support) into `out` (`bins` values): the
    /// mass is split between the two neighbouring support points so that the expectation equals `x`.
    pub fn encode(&self, x: f64, out: &mut [f64]) {
        debug_assert_eq!(out.len(), self.bins);
        out.fill(0.0);
        let x = x.clamp(self.lo, self.hi);
        let pos = (x - self.lo) / self.step();
        let i = (pos.floor() as usize).min(self.bins - 1);
        let frac = pos - i as f64;
        if i + 1 < self.bins && frac > 0.0 {
            out[i] = 1.0 - frac;
            out[i + 1] = frac;
        } else {
            out[i] = 1.0;
        }
    }

    /// Expectation of the support under `probs` (normalised by their sum, so rounding in a softmax
    /// does not bias the result). Returns None when the mass is not positive.
    pub fn decode(&self, probs: &[f64]) -> Option<f64> {
        debug_assert_eq!(probs.len(), self.bins);
        let step = self.step();
        let mut total = 0.0;
        let mut acc = 0.0;
        for (i, &p) in probs.iter().enumerate() {
            total += p;
            acc += p * (self.lo + step * i as f64);
        }
        if total > 0.0 {
            Some(acc / total)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn h_matches_definition_and_is_odd() {
        assert_eq!(h(0.0), 0.0);
        assert!((h(3.0) - (1.0 + 0.003)).abs() < 1e-15);
        assert!((h(-8.0) - (-2.008)).abs() < 1e-12);
        for &x in &[0.1, 1.0, 17.5, 1e4] {
            assert_eq!(h(-x), -h(x));
        }
    }

    #[test]
    fn h_inverse_round_trips_within_1e9() {
        let mut x = -1.0e5;
        let mut worst: f64 = 0.0;
        while x <= 1.0e5 {
            let back = h_inv(h(x));
            let err = (back - x).abs() / x.abs().max(1.0);
            worst = worst.max(err);
            x += 0.731;
        }
        for &x in &[1e-12, -1e-9, 1e-6, 0.5, -0.5, 299.99, -300.0, 1e6, -1e7] {
            let err = (h_inv(h(x)) - x).abs() / f64::abs(x).max(1.0);
            worst = worst.max(err);
        }
        assert!(worst < 1e-9, "worst relative round-trip error {worst}");
        // And the other direction on the transformed scale.
        for &y in &[-300.0, -12.25, -1e-8, 0.0, 3e-7, 2.5, 300.0] {
            assert!((h(h_inv(y)) - y).abs() < 1e-9, "y={y}");
        }
    }

    #[test]
    fn two_hot_puts_mass_on_neighbours_and_decodes_exactly() {
        let s = Support::new(-300.0, 300.0, 601).unwrap();
        let mut p = vec![0.0; 601];
        s.encode(2.3, &mut p);
        // 2.3 lies between support points 2 (index 302) and 3 (index 303).
        assert!((p[302] - 0.7).abs() < 1e-12 && (p[303] - 0.3).abs() < 1e-12);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert_eq!(p.iter().filter(|&&v| v > 0.0).count(), 2);
        for &x in &[-300.0, -299.5, -1.25, 0.0, 0.75, 150.1, 300.0] {
            s.encode(x, &mut p);
            assert!((s.decode(&p).unwrap() - x).abs() < 1e-9, "x={x}");
        }
        // On-grid values are one-hot; values outside the support clamp to its ends.
        s.encode(-7.0, &mut p);
        assert_eq!(p[293], 1.0);
        s.encode(1e9, &mut p);
        assert_eq!(p[600], 1.0);
        s.encode(-1e9, &mut p);
        assert_eq!(p[0], 1.0);
        // An uneven support (5 bins over [0, 1]: step 0.25).
        let s = Support::new(0.0, 1.0, 5).unwrap();
        let mut q = vec![0.0; 5];
        s.encode(0.6, &mut q);
        assert!((q[2] - 0.6).abs() < 1e-12 && (q[3] - 0.4).abs() < 1e-12, "{q:?}");
        assert!(s.decode(&[0.0; 5]).is_none());
        assert!(Support::new(1.0, 1.0, 5).is_err() && Support::new(0.0, 1.0, 1).is_err());
    }
}
