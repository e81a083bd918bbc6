//! Min-max normalisation of Q values over one tree (MuZero appendix B): rewards are unbounded in
//! trading (pips), so the value term of PUCT is rescaled to [0, 1] by the smallest and largest Q seen
//! in the tree so far, which keeps pb_c meaningful whatever the reward scale.

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MinMax {
    pub min: f64,
    pub max: f64,
}

impl Default for MinMax {
    fn default() -> Self {
        MinMax::new()
    }
}

impl MinMax {
    pub const fn new() -> Self {
        MinMax { min: f64::INFINITY, max: f64::NEG_INFINITY }
    }

    #[inline]
    pub fn update(&mut self, v: f64) {
        if v < self.min {
            self.min = v;
        }
        if v > self.max {
            self.max = v;
        }
    }

    /// `v` mapped to [0, 1] by the range seen so far (clamped: a value outside the range, such as an
    /// unvisited child's fill value, is pinned to the nearest end). Until the tree has seen two
    /// different values there is no scale, and every value maps to 0.5, so that selection is left to
    /// the prior term instead of mixing an unnormalised value into it.
    #[inline]
    pub fn normalize(&self, v: f64) -> f64 {
        let delta = self.max - self.min;
        if delta > 0.0 {
            ((v - self.min) / delta).clamp(0.0, 1.0)
        } else {
            0.5
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_by_the_range_seen_so_far() {
        let mut m = MinMax::new();
        assert_eq!(m.normalize(42.0), 0.5, "no range yet");
        m.update(3.0);
        assert_eq!(m.normalize(3.0), 0.5, "a single value has no range");
        m.update(-1.0);
        m.update(1.0);
        assert_eq!((m.min, m.max), (-1.0, 3.0));
        assert_eq!(m.normalize(-1.0), 0.0);
        assert_eq!(m.normalize(3.0), 1.0);
        assert!((m.normalize(0.0) - 0.25).abs() < 1e-15);
        assert_eq!(m.normalize(10.0), 1.0, "clamped above");
        assert_eq!(m.normalize(-10.0), 0.0, "clamped below");
        // Scale invariance: multiplying every value by 1000 changes nothing after normalisation.
        let mut big = MinMax::new();
        for v in [3000.0, -1000.0, 1000.0] {
            big.update(v);
        }
        assert!((big.normalize(0.0) - m.normalize(0.0)).abs() < 1e-15);
    }
}
