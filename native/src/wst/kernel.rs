//! The per-window computation. Generic over the element type so that the same code runs on one signal
//! (`f64`) or on four signals in lock-step (`F64x4`, one per lane); see `fft` for why lanes cannot
//! change a result. All buffers live in [`Scratch`], allocated once and reused for every window.

use super::plan::{Lowpass, SparseFilter, WstPlan};
use crate::fft::{F64x4, Real};

pub(crate) struct Scratch<T> {
    /// The (already normalised) input signal(s), `length` samples.
    pub win: Vec<T>,
    u0: Vec<T>,
    x0r: Vec<T>,
    x0i: Vec<T>,
    yr: Vec<T>,
    yi: Vec<T>,
    u1: Vec<T>,
    x1r: Vec<T>,
    x1i: Vec<T>,
    wr: Vec<T>,
    wi: Vec<T>,
    u2: Vec<T>,
    /// Time-averaged output, one value per channel.
    pub feat: Vec<T>,
    /// Full output [channel][t], only written when requested.
    pub s: Vec<T>,
    /// The order-0 path at its output times (S row 0), written when asked for without `s`.
    pub s0: Vec<T>,
}

impl<T: Real> Scratch<T> {
    pub fn new(plan: &WstPlan, full: bool) -> Self {
        let n = plan.n_padded;
        let z = || vec![T::default(); n];
        Scratch {
            win: vec![T::default(); plan.config.length],
            u0: z(),
            x0r: z(),
            x0i: z(),
            yr: z(),
            yi: z(),
            u1: z(),
            x1r: z(),
            x1i: z(),
            wr: vec![T::default(); n / 2],
            wi: vec![T::default(); n / 2],
            u2: z(),
            feat: vec![T::default(); plan.channels],
            s: if full { vec![T::default(); plan.channels * plan.t_out] } else { Vec::new() },
            s0: vec![T::default(); plan.t_out],
        }
    }
}

/// Scattering of four lanes of windows: the same computation as [`run`], compiled for AVX2 when the
/// CPU has it (detected once per plan). Rust never fuses or reorders floating-point operations, so
/// the wider instructions give bit-identical results (tested); they only do four lanes at once.
pub(crate) fn run_lanes(plan: &WstPlan, sc: &mut Scratch<F64x4>, full: bool, order0: bool) {
    #[cfg(target_arch = "x86_64")]
    if plan.avx2 {
        // SAFETY: `plan.avx2` is true only when `is_x86_feature_detected!("avx2")` said so at plan
        // creation, which is the one requirement of calling a `#[target_feature(enable = "avx2")]` fn.
        unsafe { run_avx2(plan, sc, full, order0) };
        return;
    }
    run(plan, sc, full, order0)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn run_avx2(plan: &WstPlan, sc: &mut Scratch<F64x4>, full: bool, order0: bool) {
    run(plan, sc, full, order0)
}

/// Scattering of `sc.win` into `sc.feat` (and `sc.s` when `full`, and the order-0 samples into
/// `sc.s0` when `order0`: the same values as S row 0).
#[inline(always)]
pub(crate) fn run<T: Real>(plan: &WstPlan, sc: &mut Scratch<T>, full: bool, order0: bool) {
    let Scratch { win, u0, x0r, x0i, yr, yi, u1, x1r, x1i, wr, wi, u2, feat, s, s0 } = sc;
    let fft = &plan.fft;
    let i0 = plan.ind_start[plan.log2_t as usize];
    let t_out = plan.t_out;
    let s_out: Option<&mut [T]> = if full { Some(&mut s[..]) } else { None };
    let mut s_out = s_out;

    reflect_pad(win, u0, plan.pad_left);
    fft.real_forward(u0, x0r, x0i, wr, wi);
    lowpass_row(&plan.lowpass[0], u0, 0, i0, t_out, feat, s_out.as_deref_mut());
    if order0 {
        lowpass_samples(&plan.lowpass[0], u0, i0, s0);
    }

    for fp in &plan.firsts {
        let m1 = fp.filter.m_out;
        periodise_conj(&fp.filter, x0r, x0i, &mut yr[..m1], &mut yi[..m1]);
        // DFT of the conjugated spectrum = conj of the (scaled) inverse DFT: same modulus.
        fft.forward_bitrev(&mut yr[..m1], &mut yi[..m1]);
        modulus(&yr[..m1], &yi[..m1], &mut u1[..m1]);
        lowpass_row(&plan.lowpass[fp.k1 as usize], &u1[..m1], fp.row, i0, t_out, feat, s_out.as_deref_mut());
        if fp.children.is_empty() {
            continue;
        }
        if m1 >= 2 {
            fft.real_forward(&u1[..m1], x1r, x1i, wr, wi);
        } else {
            x1r[0] = u1[0];
            x1i[0] = T::default();
        }
        for c in &fp.children {
            let m2 = c.filter.m_out;
            periodise_conj(&c.filter, x1r, x1i, &mut yr[..m2], &mut yi[..m2]);
            fft.forward_bitrev(&mut yr[..m2], &mut yi[..m2]);
            modulus(&yr[..m2], &yi[..m2], &mut u2[..m2]);
            lowpass_row(&plan.lowpass[c.res as usize], &u2[..m2], c.row, i0, t_out, feat, s_out.as_deref_mut());
        }
    }
}

#[inline(always)]
/// numpy.pad(mode='reflect'): mirror about the edge samples without repeating them.
fn reflect_pad<T: Real>(x: &[T], out: &mut [T], pad_left: usize) {
    let n = x.len();
    out[pad_left..pad_left + n].copy_from_slice(x);
    for i in 0..pad_left {
        out[pad_left - 1 - i] = x[i + 1];
    }
    let right = out.len() - pad_left - n;
    for i in 0..right {
        out[pad_left + n + i] = x[n - 2 - i];
    }
}

/// y = conj(periodise(x * f)) in bit-reversed order, with the scaling folded into the coefficients.
/// Every destination is written: stored by its first bin (0 + v, bit-identical to accumulating onto a
/// zeroed buffer), accumulated by the others, zeroed when no bin reaches it.
#[inline(always)]
fn periodise_conj<T: Real>(f: &SparseFilter, xr: &[T], xi: &[T], yr: &mut [T], yi: &mut [T]) {
    let zero = T::default();
    for &d in &f.zero {
        yr[d as usize] = zero;
        yi[d as usize] = zero;
    }
    let (s1, s2) = f.src.split_at(f.n_first);
    let (d1, d2) = f.dst.split_at(f.n_first);
    let (c1, c2) = f.coef.split_at(f.n_first);
    for ((&s, &d), &c) in s1.iter().zip(d1).zip(c1) {
        let (s, d, c) = (s as usize, d as usize, T::splat(c));
        yr[d] = zero + xr[s] * c;
        yi[d] = zero - xi[s] * c;
    }
    for ((&s, &d), &c) in s2.iter().zip(d2).zip(c2) {
        let (s, d, c) = (s as usize, d as usize, T::splat(c));
        yr[d] = yr[d] + xr[s] * c;
        yi[d] = yi[d] - xi[s] * c;
    }
}

#[inline(always)]
fn modulus<T: Real>(re: &[T], im: &[T], out: &mut [T]) {
    for ((o, &r), &i) in out.iter_mut().zip(re).zip(im) {
        *o = (r * r + i * i).sqrt();
    }
}

/// Sum of u[s] * w[s] with four interleaved partial sums (fixed order, so fully deterministic).
#[inline(always)]
fn dot<T: Real>(u: &[T], w: &[f64]) -> T {
    let mut acc = [T::default(); 4];
    let uc = u.chunks_exact(4);
    let wc = w.chunks_exact(4);
    let (ur, wrem) = (uc.remainder(), wc.remainder());
    for (a, b) in uc.zip(wc) {
        for k in 0..4 {
            acc[k] = acc[k] + a[k] * T::splat(b[k]);
        }
    }
    for (k, (a, b)) in ur.iter().zip(wrem).enumerate() {
        acc[k] = acc[k] + *a * T::splat(*b);
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3])
}

#[inline(always)]
/// One output row: time-averaged feature, and the full unpadded row when `s_out` is given.
fn lowpass_row<T: Real>(lp: &Lowpass, u: &[T], row: usize, i0: usize, t_out: usize, feat: &mut [T], s_out: Option<&mut [T]>) {
    debug_assert_eq!(u.len(), lp.m);
    feat[row] = dot(u, &lp.g);
    if let Some(s) = s_out {
        lowpass_samples(lp, u, i0, &mut s[row * t_out..(row + 1) * t_out]);
    }
}

#[inline(always)]
/// The low-passed, subsampled, unpadded row: out[k] = sum_s u[s] h[((i0 + k) * 2^q - s) mod m].
fn lowpass_samples<T: Real>(lp: &Lowpass, u: &[T], i0: usize, out: &mut [T]) {
    let m = lp.m;
    // m is a power of two (N / 2^r): masking is the modulo, without a division per term.
    debug_assert!(m.is_power_of_two());
    let mask = m - 1;
    for (k, o) in out.iter_mut().enumerate() {
        let base = (i0 + k) << lp.q;
        let mut acc = T::default();
        for (idx, &v) in u.iter().enumerate() {
            acc = acc + v * T::splat(lp.h[(base + m - idx) & mask]);
        }
        *o = acc;
    }
}
