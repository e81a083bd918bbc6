//! A scattering plan: everything that depends only on the configuration (J, Q1, Q2, max_order, length)
//! is computed once here, so that the per-window kernel only multiplies, transforms and sums.
//!
//! Kymatio's computation, for one signal x of length n (Scattering1D, average='local', oversampling 0):
//!   U0 = reflect-pad(x) to N = 2n (for power-of-two n, Kymatio's padding rule always gives 2n),
//!   S0 = unpad(Re ifft(periodise(fft(U0) * phi, 2^log2T))),
//!   U1 = |ifft(periodise(fft(U0) * psi1, 2^k1))|, k1 = min(j1, log2T),
//!   S1 = unpad(Re ifft(periodise(fft(U1) * phi[k1], 2^(log2T-k1)))),
//!   U2 = |ifft(periodise(fft(U1) * psi2[k1], 2^k2))| for j2 > j1, k2 = max(min(j2, log2T) - k1, 0),
//!   S2 = unpad(Re ifft(periodise(fft(U2) * phi[k1+k2], 2^(log2T-k1-k2)))).
//! The last step of every row (low-pass, subsample, unpad) is linear in the real signal it filters, so
//! the plan stores it as a real kernel `h_r` per resolution r (S[t] = sum_s u[s] h_r[t*2^q - s]) and,
//! for the time-averaged features, as one weight vector `g_r` (feature = sum_s u[s] g_r[s]).

use super::filters::{self, WaveletParams};
use crate::fft::Fft;

/// Filter-bank bins whose magnitude is below this fraction of the filter's peak are skipped: their
/// contribution (< 1e-25 of the peak times the spectrum) is far below double rounding of the result.
const SPARSE_REL_THRESHOLD: f64 = 1e-25;

pub const MAX_LENGTH: usize = 8192;
pub const MIN_LENGTH: usize = 4;
pub const MAX_Q: u32 = 32;

/// Configuration of a plan (the arguments of Kymatio's `Scattering1D`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WstConfig {
    pub j: u32,
    pub q1: u32,
    pub q2: u32,
    pub max_order: u32,
    pub length: usize,
}

/// One output row: its order and, per order, the filter index n, scale j, centre frequency xi and
/// bandwidth sigma (-1 / NaN where the row has no filter of that order), as Kymatio's `meta()`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PathMeta {
    pub order: u32,
    pub n: [i32; 2],
    pub j: [i32; 2],
    pub xi: [f64; 2],
    pub sigma: [f64; 2],
}

/// A filter restricted to its non-negligible bins, with the periodisation and bit-reversal folded in:
/// `y[dst[i]] += x[src[i]] * coef[i]` builds the (conjugated, see kernel) input of the inverse transform.
/// Entries [0, n_first) are the first to reach their destination (stored, not added: no zero-fill
/// pass), the rest accumulate in bin order; `zero` lists the destinations no bin reaches.
pub(crate) struct SparseFilter {
    pub src: Vec<u32>,
    pub dst: Vec<u32>,
    pub coef: Vec<f64>,
    pub n_first: usize,
    pub zero: Vec<u32>,
    /// Size of the transform the filter feeds.
    pub m_out: usize,
}

/// Low-pass + subsample + unpad of a real signal at resolution r (length m = N / 2^r).
pub(crate) struct Lowpass {
    pub m: usize,
    /// log2 of the subsampling from resolution r to log2T.
    pub q: u32,
    /// S[t - i0] = sum_s u[s] h[(t * 2^q - s) mod m] for t in [i0, i1).
    pub h: Vec<f64>,
    /// Time average of those rows: feature = sum_s u[s] g[s].
    pub g: Vec<f64>,
}

pub(crate) struct SecondPath {
    pub row: usize,
    /// Resolution of U2 (k1 + k2).
    pub res: u32,
    pub filter: SparseFilter,
}

pub(crate) struct FirstPath {
    pub row: usize,
    pub k1: u32,
    pub filter: SparseFilter,
    pub children: Vec<SecondPath>,
}

pub struct WstPlan {
    pub config: WstConfig,
    pub n_padded: usize,
    pub pad_left: usize,
    pub pad_right: usize,
    pub log2_t: u32,
    pub ind_start: Vec<usize>,
    pub ind_end: Vec<usize>,
    pub t_out: usize,
    pub channels: usize,
    pub per_order: [usize; 3],
    pub psi1: Vec<WaveletParams>,
    pub psi2: Vec<WaveletParams>,
    pub meta: Vec<PathMeta>,
    pub(crate) fft: Fft,
    pub(crate) firsts: Vec<FirstPath>,
    /// Indexed by resolution r = 0..=log2T.
    pub(crate) lowpass: Vec<Lowpass>,
    /// The CPU has AVX2: the kernel runs its AVX2 build (same results, wider instructions).
    pub(crate) avx2: bool,
}

impl WstPlan {
    /// Validates the configuration and builds the filter bank and all tables.
    pub fn new(cfg: WstConfig) -> Result<WstPlan, String> {
        let WstConfig { j, q1, q2, max_order, length } = cfg;
        if !(MIN_LENGTH..=MAX_LENGTH).contains(&length) || !length.is_power_of_two() {
            return Err(format!("length must be a power of two in [{MIN_LENGTH}, {MAX_LENGTH}], got {length}"));
        }
        let log2_len = length.trailing_zeros();
        if j < 1 || j > log2_len {
            return Err(format!(
                "J must be an integer in [1, {log2_len}] for length {length} (2^J may not exceed the length), got {j}"
            ));
        }
        for (name, q) in [("Q1", q1), ("Q2", q2)] {
            if !(1..=MAX_Q).contains(&q) {
                return Err(format!("{name} must be an integer in [1, {MAX_Q}], got {q}"));
            }
        }
        if max_order != 1 && max_order != 2 {
            return Err(format!("max_order must be 1 or 2, got {max_order}"));
        }

        // T = 2^J; padding: for power-of-two n, Kymatio's J_pad = min(ceil(log2(n + 2*min_to_pad)),
        // floor(log2(3n - 2))) is always log2(n) + 1 (min_to_pad > 0), i.e. N = 2n, n/2 each side.
        let log2_t = j;
        let n_padded = 2 * length;
        let pad_right = (n_padded - length) / 2;
        let pad_left = n_padded - length - pad_right;
        let log2_n_padded = n_padded.trailing_zeros();
        // compute_border_indices(log2_T, J, pad_left, pad_left + n)
        let mut ind_start = vec![pad_left];
        let mut ind_end = vec![pad_left + length];
        for jj in 1..=(log2_t.max(j) as usize) {
            let (s, e) = (ind_start[jj - 1], ind_end[jj - 1]);
            ind_start.push(s / 2 + s % 2);
            ind_end.push(e / 2 + e % 2);
        }
        let i0 = ind_start[log2_t as usize];
        let i1 = ind_end[log2_t as usize];
        let t_out = i1 - i0;

        let psi1 = filters::layer_params(j, q1);
        let psi2 = filters::layer_params(j, q2);
        if psi1.is_empty() || psi2.is_empty() {
            return Err(format!("(J={j}, Q=({q1},{q2})) yields an empty wavelet filter bank"));
        }
        // Kymatio's _check_filterbanks: no aliasing, and second-order wavelets below their parent.
        for (layer, ps) in [(1, &psi1), (2, &psi2)] {
            for (n, p) in ps.iter().enumerate() {
                if p.xi.partial_cmp(&(0.5 / 2f64.powi(p.j as i32))) != Some(std::cmp::Ordering::Less) {
                    return Err(format!("(J={j}, Q=({q1},{q2})) unsupported: wavelet {n} of layer {layer} would alias"));
                }
            }
        }
        let max_j1 = psi1.iter().map(|p| p.j).max().unwrap_or(0);
        let max_j_all = psi2.iter().map(|p| p.j).max().unwrap_or(0).max(max_j1);
        // Kymatio builds phi at levels < max(previous_J, 1 + log2T); beyond log2(N) it cannot reshape.
        if max_j_all.max(1 + log2_t) - 1 > log2_n_padded {
            return Err(format!("(J={j}, Q=({q1},{q2})) unsupported for length {length}: filters too narrow for the padded length"));
        }

        let fft = Fft::new(n_padded)?;

        // Paths in Kymatio's order: order 0, then order 1 by n1, then order 2 by (n1, n2).
        let mut meta = vec![PathMeta { order: 0, n: [-1, -1], j: [-1, -1], xi: [f64::NAN; 2], sigma: [f64::NAN; 2] }];
        let n1_count = psi1.len();
        for (n1, p) in psi1.iter().enumerate() {
            meta.push(PathMeta {
                order: 1,
                n: [n1 as i32, -1],
                j: [p.j as i32, -1],
                xi: [p.xi, f64::NAN],
                sigma: [p.sigma, f64::NAN],
            });
        }
        let mut second_pairs = Vec::new();
        if max_order == 2 {
            for (n1, p1) in psi1.iter().enumerate() {
                for (n2, p2) in psi2.iter().enumerate() {
                    if p2.j > p1.j {
                        if p2.xi.partial_cmp(&p1.xi) != Some(std::cmp::Ordering::Less) {
                            return Err(format!("(J={j}, Q=({q1},{q2})) unsupported: second-order wavelet {n2} is not below first-order wavelet {n1}"));
                        }
                        let k1 = p1.j.min(log2_t);
                        // psi2 exists at levels < min(max_j1, j2, 1 + log2T) in Kymatio.
                        if k1 >= max_j1.min(p2.j).min(1 + log2_t) {
                            return Err(format!("(J={j}, Q=({q1},{q2})) unsupported: Kymatio has no second-order filter {n2} at resolution {k1}"));
                        }
                        second_pairs.push((n1, n2));
                        meta.push(PathMeta {
                            order: 2,
                            n: [n1 as i32, n2 as i32],
                            j: [p1.j as i32, p2.j as i32],
                            xi: [p1.xi, p2.xi],
                            sigma: [p1.sigma, p2.sigma],
                        });
                    }
                }
            }
        }
        let channels = meta.len();
        let per_order = [1, n1_count, second_pairs.len()];

        // Filters in the Fourier domain at the padded length.
        let psi1_f: Vec<Vec<f64>> = psi1.iter().map(|p| filters::morlet_1d(&fft, n_padded, Some(p.xi), p.sigma)).collect();
        let psi2_f: Vec<Vec<f64>> = if max_order == 2 {
            psi2.iter().map(|p| filters::morlet_1d(&fft, n_padded, Some(p.xi), p.sigma)).collect()
        } else {
            Vec::new()
        };
        let sigma_low = filters::SIGMA0 / 2f64.powi(log2_t as i32);
        let phi_f = filters::morlet_1d(&fft, n_padded, None, sigma_low);

        let lowpass = (0..=log2_t).map(|r| build_lowpass(&filters::level(&phi_f, r), log2_t - r, i0, i1)).collect();

        let mut firsts = Vec::with_capacity(n1_count);
        let mut row2 = 1 + n1_count;
        for (n1, p1) in psi1.iter().enumerate() {
            let k1 = p1.j.min(log2_t);
            let m1 = n_padded >> k1;
            // coef = psi / (2^k1 * m1): the periodisation mean and the inverse transform's 1/m1.
            let filter = sparse_filter(&fft, &psi1_f[n1], m1, 1.0 / n_padded as f64);
            let mut children = Vec::new();
            for &(_, n2) in second_pairs.iter().filter(|(a, _)| *a == n1) {
                let p2 = &psi2[n2];
                let k2 = (p2.j.min(log2_t)).saturating_sub(k1);
                let m2 = m1 >> k2;
                let lvl = filters::level(&psi2_f[n2], k1);
                children.push(SecondPath { row: row2, res: k1 + k2, filter: sparse_filter(&fft, &lvl, m2, 1.0 / m1 as f64) });
                row2 += 1;
            }
            firsts.push(FirstPath { row: 1 + n1, k1, filter, children });
        }

        Ok(WstPlan {
            config: cfg,
            n_padded,
            pad_left,
            pad_right,
            log2_t,
            ind_start,
            ind_end,
            t_out,
            channels,
            per_order,
            psi1,
            psi2,
            meta,
            fft,
            firsts,
            lowpass,
            avx2: cpu_has_avx2(),
        })
    }

    /// Number of windows of `length` samples in a series of `n` at `stride`.
    pub fn n_windows(&self, n: usize, stride: usize) -> usize {
        if stride == 0 || n < self.config.length {
            0
        } else {
            (n - self.config.length) / stride + 1
        }
    }
}

fn cpu_has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// `x * f` periodised to `m_out` bins (sum of the bins congruent mod m_out) and scaled, as a list of
/// non-negligible (source bin, bit-reversed destination, coefficient) triples.
fn sparse_filter(fft: &Fft, f: &[f64], m_out: usize, scale: f64) -> SparseFilter {
    let peak = f.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    let br = fft.bitrev(m_out);
    let mut seen = vec![false; m_out];
    let (mut first, mut rest) = (Vec::new(), Vec::new());
    for (b, &v) in f.iter().enumerate() {
        if v != 0.0 && v.abs() > peak * SPARSE_REL_THRESHOLD {
            let d = br[b & (m_out - 1)];
            let e = (b as u32, d, v * scale);
            if seen[d as usize] {
                rest.push(e);
            } else {
                seen[d as usize] = true;
                first.push(e);
            }
        }
    }
    let n_first = first.len();
    let zero = (0..m_out as u32).filter(|&d| !seen[d as usize]).collect();
    let all = first.into_iter().chain(rest);
    let (mut src, mut dst, mut coef) = (Vec::new(), Vec::new(), Vec::new());
    for (b, d, c) in all {
        src.push(b);
        dst.push(d);
        coef.push(c);
    }
    SparseFilter { src, dst, coef, n_first, zero, m_out }
}

/// h[d] = (1/m) sum_k phi[k] cos(2 pi k d / m): the real part of the low-pass kernel at resolution with
/// m bins, then the unpadded rows [i0, i1) after subsampling by 2^q, and their time average.
fn build_lowpass(phi: &[f64], q: u32, i0: usize, i1: usize) -> Lowpass {
    let m = phi.len();
    let cos: Vec<f64> = (0..m).map(|j| (2.0 * std::f64::consts::PI * j as f64 / m as f64).cos()).collect();
    let h: Vec<f64> = (0..m)
        .map(|d| {
            let mut acc = 0.0;
            for (k, p) in phi.iter().enumerate() {
                acc += p * cos[(k * d) % m];
            }
            acc / m as f64
        })
        .collect();
    let t_out = (i1 - i0) as f64;
    let g = (0..m)
        .map(|s| {
            let mut acc = 0.0;
            for t in i0..i1 {
                acc += h[((t << q) + m - s % m) % m];
            }
            acc / t_out
        })
        .collect();
    Lowpass { m, q, h, g }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(j: u32, q1: u32, q2: u32, max_order: u32) -> WstConfig {
        WstConfig { j, q1, q2, max_order, length: 256 }
    }

    #[test]
    fn dims_match_kymatio_for_the_fixture_configs() {
        let a = WstPlan::new(cfg(6, 4, 1, 2)).unwrap();
        assert_eq!((a.channels, a.t_out, a.per_order), (67, 4, [1, 22, 44]));
        assert_eq!((a.n_padded, a.pad_left, a.pad_right), (512, 128, 128));
        assert_eq!(a.ind_start, vec![128, 64, 32, 16, 8, 4, 2]);
        assert_eq!(a.ind_end, vec![384, 192, 96, 48, 24, 12, 6]);
        let b = WstPlan::new(cfg(2, 6, 1, 2)).unwrap();
        assert_eq!((b.channels, b.t_out, b.per_order), (8, 64, [1, 7, 0]));
        let c = WstPlan::new(cfg(4, 8, 1, 1)).unwrap();
        assert_eq!((c.channels, c.t_out, c.per_order), (23, 16, [1, 22, 0]));
        let x = WstPlan::new(cfg(6, 4, 2, 2)).unwrap();
        assert_eq!((x.channels, x.t_out, x.per_order), (132, 4, [1, 22, 109]));
    }

    #[test]
    fn second_order_keeps_only_j2_greater_than_j1_in_kymatio_order() {
        let a = WstPlan::new(cfg(6, 4, 1, 2)).unwrap();
        let first2 = a.meta.iter().find(|m| m.order == 2).unwrap();
        assert_eq!(first2.n, [0, 3]);
        assert_eq!(a.meta.last().unwrap().n, [16, 6]);
        for m in a.meta.iter().filter(|m| m.order == 2) {
            assert!(m.j[1] > m.j[0]);
        }
    }

    #[test]
    fn rejects_unsupported_configurations() {
        for (c, what) in [
            (cfg(0, 4, 1, 2), "J must be"),
            (cfg(9, 4, 1, 2), "J must be"),
            (cfg(6, 0, 1, 2), "Q1 must be"),
            (cfg(6, 4, 0, 2), "Q2 must be"),
            (cfg(6, 4, 1, 3), "max_order"),
            (WstConfig { length: 300, ..cfg(6, 4, 1, 2) }, "power of two"),
        ] {
            let e = WstPlan::new(c).err().expect("must fail");
            assert!(e.contains(what), "{e}");
        }
    }

    #[test]
    fn lowpass_rows_average_to_g() {
        let a = WstPlan::new(cfg(6, 4, 1, 2)).unwrap();
        for lp in &a.lowpass {
            let mean_h: f64 = lp.h.iter().sum::<f64>();
            // a unit-DC low-pass: every output row sums its input weights to ~1
            assert!((mean_h - 1.0).abs() < 1e-9, "{mean_h}");
            assert!((lp.g.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        }
    }
}
