//! Own FFT for power-of-two sizes (crates.io is unreachable, so no rustfft): a decimation-in-time
//! complex transform built from fused radix-4 stages (plus one radix-2 stage for odd log2 sizes), and a
//! real transform on top of the half-size complex one. Everything is planned once in [`Fft`] for all
//! sizes up to `n_max`; the transforms themselves never allocate.
//!
//! The hot functions are `#[inline(always)]` so that a caller compiled with wider SIMD (see
//! `wst::kernel`) gets them compiled the same way.
//!
//! The transforms are generic over a [`Real`] element so the same code runs on plain `f64` and on
//! [`F64x4`], four independent signals processed in lock-step (one per lane). Lanes never interact and
//! every lane performs exactly the same IEEE operations in the same order as the scalar code (Rust
//! neither reassociates nor fuses floating-point operations), so a value does not depend on which lane
//! it was computed in, or on whether the compiler vectorised the loop.
//!
//! Data layout is split (separate real and imaginary slices). The complex transform takes its input
//! already in bit-reversed order: callers that build a spectrum bin by bin (the scattering transform
//! does) write each bin straight to its bit-reversed slot instead of paying a permutation pass.

use std::ops::{Add, Mul, Neg, Sub};

/// A floating-point element the transforms work on: `f64`, or several `f64` lanes.
pub trait Real:
    Copy + Default + Send + Sync + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self> + Neg<Output = Self>
{
    fn splat(v: f64) -> Self;
    fn sqrt(self) -> Self;
}

impl Real for f64 {
    #[inline(always)]
    fn splat(v: f64) -> Self {
        v
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        f64::sqrt(self)
    }
}

/// Number of lanes in [`F64x4`].
pub const LANES: usize = 4;

/// Four `f64` lanes operated on together; the compiler maps the per-lane loops onto SIMD registers.
#[derive(Clone, Copy, Default, Debug, PartialEq)]
#[repr(C, align(32))]
pub struct F64x4(pub [f64; LANES]);

macro_rules! lane_binop {
    ($tr:ident, $f:ident, $op:tt) => {
        impl $tr for F64x4 {
            type Output = F64x4;
            #[inline(always)]
            fn $f(self, o: F64x4) -> F64x4 {
                let (a, b) = (self.0, o.0);
                F64x4([a[0] $op b[0], a[1] $op b[1], a[2] $op b[2], a[3] $op b[3]])
            }
        }
    };
}
lane_binop!(Add, add, +);
lane_binop!(Sub, sub, -);
lane_binop!(Mul, mul, *);

impl Neg for F64x4 {
    type Output = F64x4;
    #[inline(always)]
    fn neg(self) -> F64x4 {
        let a = self.0;
        F64x4([-a[0], -a[1], -a[2], -a[3]])
    }
}

impl Real for F64x4 {
    #[inline(always)]
    fn splat(v: f64) -> Self {
        F64x4([v; LANES])
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        let a = self.0;
        F64x4([a[0].sqrt(), a[1].sqrt(), a[2].sqrt(), a[3].sqrt()])
    }
}

/// Twiddles of one fused radix-4 stage that combines four transforms of length `s` into one of `4s`:
/// `w_p[k] = exp(-2*pi*i * p*k / (4s))` for p = 1, 2, 3 and k < s.
struct Stage {
    w1r: Vec<f64>,
    w1i: Vec<f64>,
    w2r: Vec<f64>,
    w2i: Vec<f64>,
    w3r: Vec<f64>,
    w3i: Vec<f64>,
}

/// FFT plan for every power-of-two size up to `n_max`.
pub struct Fft {
    n_max: usize,
    /// cos/sin(2*pi*j/n_max), j < n_max: the source of every twiddle (any power-of-two size divides n_max).
    cos: Vec<f64>,
    sin: Vec<f64>,
    /// stages[log2(s)] for s = 1, 2, 4, ..., n_max/4.
    stages: Vec<Stage>,
    /// bitrev[m][i]: bit reversal of i over m bits, for sizes 2^m <= n_max.
    bitrev: Vec<Vec<u32>>,
}

impl Fft {
    /// Plans all sizes 1, 2, 4, ..., `n_max` (a power of two, at most 2^24).
    pub fn new(n_max: usize) -> Result<Fft, String> {
        if n_max == 0 || !n_max.is_power_of_two() || n_max > (1 << 24) {
            return Err(format!("FFT size must be a power of two in [1, 2^24], got {n_max}"));
        }
        let (cos, sin): (Vec<f64>, Vec<f64>) = (0..n_max).map(|j| unit_root(j, n_max)).unzip();
        // Build the table indexed by log2(s) for every s = 2^b with 4s <= n_max.
        let mut by_log = Vec::new();
        let mut s = 1usize;
        while 4 * s <= n_max {
            let step = n_max / (4 * s);
            let tw = |p: usize| -> (Vec<f64>, Vec<f64>) { (0..s).map(|k| (cos[(p * k * step) % n_max], -sin[(p * k * step) % n_max])).unzip() };
            let (w1r, w1i) = tw(1);
            let (w2r, w2i) = tw(2);
            let (w3r, w3i) = tw(3);
            by_log.push(Stage { w1r, w1i, w2r, w2i, w3r, w3i });
            s *= 2;
        }
        let log_max = n_max.trailing_zeros() as usize;
        let bitrev = (0..=log_max)
            .map(|m| (0..1u32 << m).map(|i| if m == 0 { 0 } else { i.reverse_bits() >> (32 - m) }).collect())
            .collect();
        Ok(Fft { n_max, cos, sin, stages: by_log, bitrev })
    }

    pub fn n_max(&self) -> usize {
        self.n_max
    }

    /// Bit-reversal permutation for size `n` (a power of two <= n_max).
    #[inline(always)]
    pub fn bitrev(&self, n: usize) -> &[u32] {
        &self.bitrev[n.trailing_zeros() as usize]
    }

    /// exp(-2*pi*i*k/n) as (re, im), for a power of two n <= n_max.
    #[inline(always)]
    pub fn twiddle(&self, k: usize, n: usize) -> (f64, f64) {
        let j = (k % n) * (self.n_max / n);
        (self.cos[j], -self.sin[j])
    }

    /// In-place forward DFT `X[k] = sum_n x[n] exp(-2*pi*i*k*n/N)` of a power-of-two size N whose
    /// input is stored in bit-reversed order (`re[bitrev[n]] = Re x[n]`); the output is in natural order.
    #[inline(always)]
    pub fn forward_bitrev<T: Real>(&self, re: &mut [T], im: &mut [T]) {
        let n = re.len();
        assert!(n == im.len() && n.is_power_of_two() && n <= self.n_max, "fft: bad size {n}");
        if n == 1 {
            return;
        }
        let m = n.trailing_zeros() as usize;
        let mut s = 1usize;
        if m % 2 == 1 {
            radix2_first(re, im);
            s = 2;
        }
        while s < n {
            let st = &self.stages[s.trailing_zeros() as usize];
            if s == 1 {
                radix4_trivial(re, im);
            } else {
                radix4_stage(re, im, s, st);
            }
            s *= 4;
        }
    }

    /// Forward DFT of natural-order data (permutes in place first). Convenience for non-hot paths.
    pub fn forward<T: Real>(&self, re: &mut [T], im: &mut [T]) {
        self.permute_bitrev(re, im);
        self.forward_bitrev(re, im);
    }

    /// Inverse DFT with numpy's normalisation: `x[n] = (1/N) sum_k X[k] exp(+2*pi*i*k*n/N)`.
    /// Computed as conj(DFT(conj(X)))/N. Convenience for non-hot paths.
    pub fn inverse<T: Real>(&self, re: &mut [T], im: &mut [T]) {
        let n = re.len();
        for v in im.iter_mut() {
            *v = -*v;
        }
        self.forward(re, im);
        let scale = T::splat(1.0 / n as f64);
        for (r, i) in re.iter_mut().zip(im.iter_mut()) {
            *r = *r * scale;
            *i = -*i * scale;
        }
    }

    fn permute_bitrev<T: Real>(&self, re: &mut [T], im: &mut [T]) {
        let br = self.bitrev(re.len());
        for (i, &j) in br.iter().enumerate() {
            let j = j as usize;
            if j > i {
                re.swap(i, j);
                im.swap(i, j);
            }
        }
    }

    /// Forward DFT of a real signal `x` of power-of-two length N >= 2, computed with one complex
    /// transform of size N/2. Writes the full spectrum (all N bins, the upper half by Hermitian
    /// symmetry) to `out_re`/`out_im`. `work_re`/`work_im` must hold at least N/2 values.
    #[inline(always)]
    pub fn real_forward<T: Real>(&self, x: &[T], out_re: &mut [T], out_im: &mut [T], work_re: &mut [T], work_im: &mut [T]) {
        let n = x.len();
        assert!(n >= 2 && n.is_power_of_two() && n <= self.n_max, "rfft: bad size {n}");
        assert!(out_re.len() >= n && out_im.len() >= n && work_re.len() >= n / 2 && work_im.len() >= n / 2);
        let h = n / 2;
        let (zr, zi) = (&mut work_re[..h], &mut work_im[..h]);
        // z[t] = x[2t] + i x[2t+1], stored bit-reversed for the complex transform.
        let br = self.bitrev(h);
        for t in 0..h {
            let d = br[t] as usize;
            zr[d] = x[2 * t];
            zi[d] = x[2 * t + 1];
        }
        self.forward_bitrev(zr, zi);
        let half = T::splat(0.5);
        // k = 0 and k = h (Nyquist) are real.
        out_re[0] = zr[0] + zi[0];
        out_im[0] = T::splat(0.0);
        out_re[h] = zr[0] - zi[0];
        out_im[h] = T::splat(0.0);
        for k in 1..h {
            let (ar, ai) = (zr[k], zi[k]);
            let (br_, bi) = (zr[h - k], -zi[h - k]); // conj(Z[h-k])
            // E = (Z[k] + conj Z[h-k]) / 2 ; O = (Z[k] - conj Z[h-k]) / (2i)
            let er = (ar + br_) * half;
            let ei = (ai + bi) * half;
            let or = (ai - bi) * half;
            let oi = (br_ - ar) * half;
            let (wr, wi) = self.twiddle(k, n);
            let (wr, wi) = (T::splat(wr), T::splat(wi));
            let xr = er + (or * wr - oi * wi);
            let xi = ei + (or * wi + oi * wr);
            out_re[k] = xr;
            out_im[k] = xi;
            out_re[n - k] = xr;
            out_im[n - k] = -xi;
        }
    }
}

/// (cos, sin) of 2*pi*j/n, computed from the first octant so that symmetric twiddles are exactly
/// symmetric (and cos(pi/2) is exactly 0).
fn unit_root(j: usize, n: usize) -> (f64, f64) {
    // Reduce to angle in [0, pi/4] using symmetries, on exact integer arithmetic.
    let n8 = n as i64 * 8;
    let mut a = (j as i64 * 8) % n8; // angle = 2*pi * a / n8
    if a < 0 {
        a += n8;
    }
    let eighth = n as i64; // pi/4 corresponds to a = n
    let theta = |num: i64| std::f64::consts::PI * 2.0 * (num as f64) / (n8 as f64);
    let oct = a / eighth;
    let r = a % eighth;
    let (c, s) = match oct {
        0 => (theta(r).cos(), theta(r).sin()),
        1 => {
            let t = theta(eighth - r);
            (t.sin(), t.cos())
        }
        2 => {
            let t = theta(r);
            (-t.sin(), t.cos())
        }
        3 => {
            let t = theta(eighth - r);
            (-t.cos(), t.sin())
        }
        4 => {
            let t = theta(r);
            (-t.cos(), -t.sin())
        }
        5 => {
            let t = theta(eighth - r);
            (-t.sin(), -t.cos())
        }
        6 => {
            let t = theta(r);
            (t.sin(), -t.cos())
        }
        _ => {
            let t = theta(eighth - r);
            (t.cos(), -t.sin())
        }
    };
    (c, s)
}

/// Length-2 butterflies on adjacent pairs (first stage of an odd-log2 size).
#[inline(always)]
fn radix2_first<T: Real>(re: &mut [T], im: &mut [T]) {
    for (r, i) in re.chunks_exact_mut(2).zip(im.chunks_exact_mut(2)) {
        let (ar, ai, br, bi) = (r[0], i[0], r[1], i[1]);
        r[0] = ar + br;
        i[0] = ai + bi;
        r[1] = ar - br;
        i[1] = ai - bi;
    }
}

/// Radix-4 butterfly of the first stage (s = 1): all twiddles are 1.
#[inline(always)]
fn radix4_trivial<T: Real>(re: &mut [T], im: &mut [T]) {
    for (r, i) in re.chunks_exact_mut(4).zip(im.chunks_exact_mut(4)) {
        // bit-reversed blocks: r[0] = A (x0), r[1] = B (x2), r[2] = C (x1), r[3] = D (x3)
        let (pr, pi) = (r[0] + r[1], i[0] + i[1]);
        let (mr, mi) = (r[0] - r[1], i[0] - i[1]);
        let (qr, qi) = (r[2] + r[3], i[2] + i[3]);
        let (sr, si) = (r[2] - r[3], i[2] - i[3]);
        r[0] = pr + qr;
        i[0] = pi + qi;
        r[2] = pr - qr;
        i[2] = pi - qi;
        r[1] = mr + si;
        i[1] = mi - sr;
        r[3] = mr - si;
        i[3] = mi + sr;
    }
}

/// Combines, in every block of 4s, the four length-s transforms A, B, C, D (of the samples 4n, 4n+2,
/// 4n+1, 4n+3: bit-reversed order) into one of length 4s:
///   b = W^{2k} B, c = W^k C, d = W^{3k} D; X[k] = A+b+c+d, X[k+s] = (A-b) - i(c-d),
///   X[k+2s] = A+b-(c+d), X[k+3s] = (A-b) + i(c-d).
#[inline(always)]
fn radix4_stage<T: Real>(re: &mut [T], im: &mut [T], s: usize, st: &Stage) {
    let (w1r, w1i) = (&st.w1r[..s], &st.w1i[..s]);
    let (w2r, w2i) = (&st.w2r[..s], &st.w2i[..s]);
    let (w3r, w3i) = (&st.w3r[..s], &st.w3i[..s]);
    for (rb, ib) in re.chunks_exact_mut(4 * s).zip(im.chunks_exact_mut(4 * s)) {
        let (ra, rest) = rb.split_at_mut(s);
        let (rbb, rest) = rest.split_at_mut(s);
        let (rc, rd) = rest.split_at_mut(s);
        let (ia, rest) = ib.split_at_mut(s);
        let (ibb, rest) = rest.split_at_mut(s);
        let (ic, id) = rest.split_at_mut(s);
        for k in 0..s {
            let (ar, ai) = (ra[k], ia[k]);
            let (xr, xi) = (rbb[k], ibb[k]);
            let (wr, wi) = (T::splat(w2r[k]), T::splat(w2i[k]));
            let (br, bi) = (xr * wr - xi * wi, xr * wi + xi * wr);
            let (xr, xi) = (rc[k], ic[k]);
            let (wr, wi) = (T::splat(w1r[k]), T::splat(w1i[k]));
            let (cr, ci) = (xr * wr - xi * wi, xr * wi + xi * wr);
            let (xr, xi) = (rd[k], id[k]);
            let (wr, wi) = (T::splat(w3r[k]), T::splat(w3i[k]));
            let (dr, di) = (xr * wr - xi * wi, xr * wi + xi * wr);
            let (pr, pi) = (ar + br, ai + bi);
            let (mr, mi) = (ar - br, ai - bi);
            let (qr, qi) = (cr + dr, ci + di);
            let (sr, si) = (cr - dr, ci - di);
            ra[k] = pr + qr;
            ia[k] = pi + qi;
            rc[k] = pr - qr;
            ic[k] = pi - qi;
            rbb[k] = mr + si;
            ibb[k] = mi - sr;
            rd[k] = mr - si;
            id[k] = mi + sr;
        }
    }
}

/// Reference O(N^2) DFT in f64 (sign -1 forward, +1 inverse without normalisation), for tests and
/// for plan-time computations where accuracy matters more than speed.
pub fn naive_dft(re: &[f64], im: &[f64], sign: f64) -> (Vec<f64>, Vec<f64>) {
    let n = re.len();
    let mut or = vec![0.0; n];
    let mut oi = vec![0.0; n];
    for k in 0..n {
        let (mut sr, mut si) = (0.0, 0.0);
        for t in 0..n {
            let (c, s) = unit_root((k * t) % n, n);
            let s = sign * s;
            sr += re[t] * c - im[t] * s;
            si += re[t] * s + im[t] * c;
        }
        or[k] = sr;
        oi[k] = si;
    }
    (or, oi)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::rng::Rng;

    fn random(n: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
        let mut rng = Rng::new(seed);
        ((0..n).map(|_| rng.normal()).collect(), (0..n).map(|_| rng.normal()).collect())
    }

    fn max_err(a: &[f64], b: &[f64]) -> f64 {
        a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
    }

    #[test]
    fn unit_roots_are_accurate_and_symmetric() {
        for n in [1usize, 2, 4, 8, 16, 512, 4096] {
            for j in 0..n {
                let (c, s) = unit_root(j, n);
                let a = 2.0 * std::f64::consts::PI * j as f64 / n as f64;
                assert!((c - a.cos()).abs() < 1e-15 && (s - a.sin()).abs() < 1e-15, "n={n} j={j}");
            }
        }
        assert_eq!(unit_root(1, 4), (0.0, 1.0));
        assert_eq!(unit_root(2, 4), (-1.0, 0.0));
    }

    #[test]
    fn complex_forward_matches_naive_dft_every_size() {
        let fft = Fft::new(1024).unwrap();
        for m in 0..=10 {
            let n = 1usize << m;
            let (re, im) = random(n, 7 + m as u64);
            let (er, ei) = naive_dft(&re, &im, -1.0);
            let (mut r, mut i) = (re.clone(), im.clone());
            fft.forward(&mut r, &mut i);
            let tol = 1e-13 * (n as f64).max(1.0);
            assert!(max_err(&r, &er) < tol && max_err(&i, &ei) < tol, "n={n}: {} {}", max_err(&r, &er), max_err(&i, &ei));
            // inverse round trip (numpy normalisation)
            fft.inverse(&mut r, &mut i);
            assert!(max_err(&r, &re) < 1e-14 * (m as f64 + 1.0) && max_err(&i, &im) < 1e-14 * (m as f64 + 1.0), "roundtrip n={n}");
        }
    }

    #[test]
    fn real_forward_matches_naive_dft() {
        let fft = Fft::new(512).unwrap();
        for m in 1..=9 {
            let n = 1usize << m;
            let (x, _) = random(n, 100 + m as u64);
            let (er, ei) = naive_dft(&x, &vec![0.0; n], -1.0);
            let (mut or, mut oi) = (vec![0.0; n], vec![0.0; n]);
            let (mut wr, mut wi) = (vec![0.0; n / 2], vec![0.0; n / 2]);
            fft.real_forward(&x, &mut or, &mut oi, &mut wr, &mut wi);
            let tol = 1e-13 * n as f64;
            assert!(max_err(&or, &er) < tol && max_err(&oi, &ei) < tol, "n={n}");
        }
    }

    #[test]
    fn lanes_equal_scalar_bit_for_bit() {
        let fft = Fft::new(256).unwrap();
        let n = 256;
        let sig: Vec<(Vec<f64>, Vec<f64>)> = (0..LANES).map(|l| random(n, 40 + l as u64)).collect();
        let mut lr: Vec<F64x4> = (0..n).map(|t| F64x4(std::array::from_fn(|l| sig[l].0[t]))).collect();
        let mut li: Vec<F64x4> = (0..n).map(|t| F64x4(std::array::from_fn(|l| sig[l].1[t]))).collect();
        fft.forward(&mut lr, &mut li);
        for (l, (re, im)) in sig.iter().enumerate() {
            let (mut r, mut i) = (re.clone(), im.clone());
            fft.forward(&mut r, &mut i);
            for t in 0..n {
                assert_eq!(lr[t].0[l].to_bits(), r[t].to_bits());
                assert_eq!(li[t].0[l].to_bits(), i[t].to_bits());
            }
        }
    }

    #[test]
    fn rejects_bad_sizes() {
        assert!(Fft::new(0).is_err());
        assert!(Fft::new(12).is_err());
    }
}
