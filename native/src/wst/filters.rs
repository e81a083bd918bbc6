//! Kymatio 0.4's 1-D filter bank (`kymatio/scattering1d/filter_bank.py`, `anden_generator`), rebuilt
//! natively: Morlet wavelets with the zero-mean correction and a Gaussian low-pass, defined in the
//! Fourier domain on the padded length, periodised over 2P-1 periods, l1-normalised in time, and
//! reduced to coarser resolutions by summing the periods (v0.4: `np.sum`, issue #984).
//!
//! Floating-point expressions follow Kymatio's operation order so that the centre frequencies and
//! bandwidths (`xi`, `sigma`, reported in the meta data) are bit-identical to Kymatio's.

use crate::fft::Fft;

/// Kymatio's defaults for `Scattering1D`.
pub const SIGMA0: f64 = 0.1;
pub const ALPHA: f64 = 5.0;
/// Precision used to choose the number of periods of a filter (`adaptive_choice_P`, eps = 1e-7).
const EPS: f64 = 1e-7;
/// At most 2*P_MAX - 1 periods are summed.
const P_MAX: usize = 5;

pub fn r_psi() -> f64 {
    (0.5f64).sqrt()
}

/// Centre frequency and bandwidth of one wavelet, with its maximal dyadic subsampling j.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WaveletParams {
    pub xi: f64,
    pub sigma: f64,
    pub j: u32,
}

/// `compute_xi_max(Q)`: the highest centre frequency of a family with Q wavelets per octave.
pub fn compute_xi_max(q: u32) -> f64 {
    let v = 1.0 / (1.0 + 2f64.powf(3.0 / q as f64));
    if v > 0.35 {
        v
    } else {
        0.35
    }
}

/// `compute_sigma_psi(xi, Q, r)`: bandwidth such that neighbouring wavelets meet at r of their peak.
pub fn compute_sigma_psi(xi: f64, q: u32, r: f64) -> f64 {
    let factor = 1.0 / 2f64.powf(1.0 / q as f64);
    let term1 = (1.0 - factor) / (1.0 + factor);
    let term2 = 1.0 / (2.0 * (1.0 / r).ln()).sqrt();
    xi * term1 * term2
}

/// `get_max_dyadic_subsampling(xi, sigma, alpha)`: largest j with xi + alpha*sigma < 2^-(j+1).
pub fn max_dyadic_subsampling(xi: f64, sigma: f64, alpha: f64) -> i64 {
    let upper = (xi.abs() + alpha * sigma).min(0.5);
    (-upper.log2()).floor() as i64 - 1
}

/// `anden_generator(J, Q, sigma0, r_psi)`: geometric progression of (xi, sigma) down to an elbow,
/// then Q-1 linearly spaced centre frequencies at the minimal bandwidth sigma0 / 2^J.
pub fn anden_generator(j: u32, q: u32, sigma0: f64, r: f64) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    let mut xi = compute_xi_max(q);
    let mut sigma = compute_sigma_psi(xi, q, r);
    let sigma_min = sigma0 / 2f64.powi(j as i32);
    let step = 2f64.powf(1.0 / q as f64);
    if sigma <= sigma_min {
        xi = sigma;
    } else {
        out.push((xi, sigma));
        while sigma > sigma_min * step {
            xi /= step;
            sigma /= step;
            out.push((xi, sigma));
        }
    }
    let elbow_xi = xi;
    for _ in 0..q.saturating_sub(1) {
        xi -= 1.0 / q as f64 * elbow_xi;
        out.push((xi, sigma_min));
    }
    out
}

/// `adaptive_choice_P(sigma, eps)`: number of periods so that the Gaussian tails fall below eps.
fn adaptive_choice_p(sigma: f64) -> usize {
    let val = (-2.0 * (sigma * sigma) * EPS.ln()).sqrt();
    (val + 1.0).ceil() as usize
}

/// `morlet_1d(N, xi, sigma)` (or `gauss_1d(N, sigma)` when `xi` is None): the filter's Fourier
/// transform at the frequencies of `np.fft.fftfreq(N)`, l1-normalised in time.
pub fn morlet_1d(fft: &Fft, n: usize, xi: Option<f64>, sigma: f64) -> Vec<f64> {
    let p = adaptive_choice_p(sigma).clamp(1, P_MAX);
    let periods = 2 * p - 1;
    let two_s2 = 2.0 * (sigma * sigma);
    // freqs over [1-P, P): index i covers (i + (1-P)*N) / N; fftfreq when P == 1.
    let freq = |i: usize| -> f64 {
        if p == 1 {
            let k = i as i64;
            let nn = n as i64;
            let v = if k < (nn + 1) / 2 { k } else { k - nn };
            v as f64 / n as f64
        } else {
            (i as i64 + (1 - p as i64) * n as i64) as f64 / n as f64
        }
    };
    // Periodise (mean over periods: sum row by row, then divide, as numpy's mean over axis 0).
    let periodise = |f: &dyn Fn(f64) -> f64| -> Vec<f64> {
        let mut acc = vec![0.0; n];
        for per in 0..periods {
            for (k, a) in acc.iter_mut().enumerate() {
                *a += f(freq(per * n + k));
            }
        }
        acc.iter().map(|v| v / periods as f64).collect()
    };
    let low = periodise(&|f: f64| (-(f * f) / two_s2).exp());
    let mut filt = match xi {
        Some(xi) if xi != 0.0 => {
            // Morlet freqs use [1-P, P) even when P == 1 (only the low-pass uses fftfreq then).
            let gabor_freq = |i: usize| (i as i64 + (1 - p as i64) * n as i64) as f64 / n as f64;
            let mut g = vec![0.0; n];
            for per in 0..periods {
                for (k, a) in g.iter_mut().enumerate() {
                    let d = gabor_freq(per * n + k) - xi;
                    *a += (-(d * d) / two_s2).exp();
                }
            }
            for v in g.iter_mut() {
                *v /= periods as f64;
            }
            let kappa = g[0] / low[0];
            g.iter().zip(&low).map(|(gv, lv)| gv - kappa * lv).collect()
        }
        _ => low,
    };
    // l1 normalisation in time: divide by sum |ifft(filter)|.
    let mut re = filt.clone();
    let mut im = vec![0.0; n];
    fft.inverse(&mut re, &mut im);
    let l1: f64 = re.iter().zip(&im).map(|(r, i)| r.hypot(*i)).sum();
    for v in filt.iter_mut() {
        *v /= l1;
    }
    filt
}

/// The filter at resolution `level`: level 0 reshaped to (2^level, N / 2^level) and summed over the
/// periods (Kymatio 0.4's reduction).
pub fn level(f0: &[f64], level: u32) -> Vec<f64> {
    let m = f0.len() >> level;
    let mut out = vec![0.0; m];
    for per in 0..(1usize << level) {
        for (k, o) in out.iter_mut().enumerate() {
            *o += f0[per * m + k];
        }
    }
    out
}

/// Wavelet parameters of one layer (`scattering_filter_factory` without the arrays).
pub fn layer_params(j: u32, q: u32) -> Vec<WaveletParams> {
    anden_generator(j, q, SIGMA0, r_psi())
        .into_iter()
        .map(|(xi, sigma)| {
            let jj = max_dyadic_subsampling(xi, sigma, ALPHA);
            WaveletParams { xi, sigma, j: jj.max(0) as u32 }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xi_sigma_follow_kymatio_j6_q4() {
        // Values Kymatio 0.4 reports for Scattering1D(J=6, shape=256, Q=4) (first, elbow, last).
        let p = layer_params(6, 4);
        assert_eq!(p.len(), 22);
        assert_eq!(p[0].xi, 0.3728848808245891);
        assert_eq!(p[0].sigma, 0.038709062824195895);
        assert_eq!(p[18].xi, 0.016479339239562785);
        assert_eq!(p[19].xi, 0.01235950442967209);
        assert_eq!(p[21].xi, 0.004119834809890698);
        assert_eq!(p[21].sigma, 0.0015625);
        let js: Vec<u32> = p.iter().map(|w| w.j).collect();
        assert_eq!(js, vec![0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5]);
        let p2 = layer_params(6, 1);
        assert_eq!(p2.iter().map(|w| w.xi).collect::<Vec<_>>(), vec![0.35, 0.175, 0.0875, 0.04375, 0.021875, 0.0109375, 0.00546875]);
        assert_eq!(p2.iter().map(|w| w.j).collect::<Vec<_>>(), vec![0, 0, 0, 1, 2, 3, 4]);
    }

    #[test]
    fn morlet_has_zero_mean_and_unit_l1() {
        let fft = Fft::new(512).unwrap();
        let f = morlet_1d(&fft, 512, Some(0.2), 0.02);
        assert!(f[0].abs() < 1e-15, "Morlet DC must vanish: {}", f[0]);
        let (mut re, mut im) = (f.clone(), vec![0.0; 512]);
        fft.inverse(&mut re, &mut im);
        let l1: f64 = re.iter().zip(&im).map(|(r, i)| r.hypot(*i)).sum();
        assert!((l1 - 1.0).abs() < 1e-12);
        let g = morlet_1d(&fft, 512, None, 0.1 / 64.0);
        assert!((g[0] - 1.0).abs() < 1e-12, "l1-normalised positive low-pass has DC 1: {}", g[0]);
    }

    #[test]
    fn level_sums_periods() {
        let f: Vec<f64> = (0..8).map(|v| v as f64).collect();
        assert_eq!(level(&f, 1), vec![4.0, 6.0, 8.0, 10.0]);
        assert_eq!(level(&f, 3), vec![28.0]);
    }
}
