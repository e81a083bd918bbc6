//! Checks of the optimised kernel against a literal transcription of Kymatio's algorithm (dense
//! filters, naive DFTs, explicit periodisation and unpadding), plus the determinism guarantees.
//! The comparison with Kymatio's own outputs lives in test/wst.test.ts (shared fixtures).

use super::*;
use crate::fft::naive_dft;
use crate::util::rng::Rng;

fn plan(j: u32, q1: u32, q2: u32, order: u32) -> WstPlan {
    WstPlan::new(WstConfig { j, q1, q2, max_order: order, length: 256 }).unwrap()
}

fn random_walk(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = Rng::new(seed);
    let mut p = 150.0;
    (0..n)
        .map(|_| {
            p += 0.01 * rng.normal();
            p
        })
        .collect()
}

fn zscore(w: &[f64]) -> Vec<f64> {
    let mut lanes = vec![F64x4::default(); w.len()];
    load_lane(w, true, 0, &mut lanes);
    lanes.iter().map(|v| v.0[0]).collect()
}

// ---- literal Kymatio (numpy backend) -------------------------------------------------------------

fn fft_c(re: &[f64], im: &[f64]) -> (Vec<f64>, Vec<f64>) {
    naive_dft(re, im, -1.0)
}
fn ifft_c(re: &[f64], im: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let n = re.len() as f64;
    let (r, i) = naive_dft(re, im, 1.0);
    (r.iter().map(|v| v / n).collect(), i.iter().map(|v| v / n).collect())
}
fn subsample(re: &[f64], im: &[f64], k: usize) -> (Vec<f64>, Vec<f64>) {
    let m = re.len() / k;
    let mut r = vec![0.0; m];
    let mut i = vec![0.0; m];
    for p in 0..k {
        for t in 0..m {
            r[t] += re[p * m + t];
            i[t] += im[p * m + t];
        }
    }
    (r.iter().map(|v| v / k as f64).collect(), i.iter().map(|v| v / k as f64).collect())
}
fn mul(re: &[f64], im: &[f64], f: &[f64]) -> (Vec<f64>, Vec<f64>) {
    (re.iter().zip(f).map(|(a, b)| a * b).collect(), im.iter().zip(f).map(|(a, b)| a * b).collect())
}

/// Kymatio's scattering1d + unpad, returning S [C][T_out].
fn reference(p: &WstPlan, x: &[f64]) -> Vec<Vec<f64>> {
    let n_pad = p.n_padded;
    let log2_t = p.log2_t as usize;
    let (i0, i1) = (p.ind_start[log2_t], p.ind_end[log2_t]);
    let fft = crate::fft::Fft::new(n_pad).unwrap();
    let phi0 = filters::morlet_1d(&fft, n_pad, None, filters::SIGMA0 / 2f64.powi(p.log2_t as i32));
    let psi1: Vec<Vec<f64>> = p.psi1.iter().map(|w| filters::morlet_1d(&fft, n_pad, Some(w.xi), w.sigma)).collect();
    let psi2: Vec<Vec<f64>> = p.psi2.iter().map(|w| filters::morlet_1d(&fft, n_pad, Some(w.xi), w.sigma)).collect();
    // numpy.pad(x, (pad_left, pad_right), mode='reflect')
    let n = x.len();
    let u0: Vec<f64> = (0..n_pad)
        .map(|i| {
            let t = i as i64 - p.pad_left as i64;
            let t = if t < 0 { -t } else if t >= n as i64 { 2 * (n as i64 - 1) - t } else { t };
            x[t as usize]
        })
        .collect();
    let lowpass = |re: &[f64], im: &[f64], r: usize| -> Vec<f64> {
        let (a, b) = mul(re, im, &filters::level(&phi0, r as u32));
        let (a, b) = subsample(&a, &b, 1 << (log2_t - r));
        let (s, _) = ifft_c(&a, &b);
        s[i0..i1].to_vec()
    };
    let zeros = vec![0.0; n_pad];
    let (u0r, u0i) = fft_c(&u0, &zeros);
    let mut out = vec![lowpass(&u0r, &u0i, 0)];
    let mut second = Vec::new();
    for (n1, w1) in p.psi1.iter().enumerate() {
        let k1 = (w1.j as usize).min(log2_t);
        let (a, b) = mul(&u0r, &u0i, &psi1[n1]);
        let (a, b) = subsample(&a, &b, 1 << k1);
        let (a, b) = ifft_c(&a, &b);
        let u1: Vec<f64> = a.iter().zip(&b).map(|(r, i)| r.hypot(*i)).collect();
        let (u1r, u1i) = fft_c(&u1, &vec![0.0; u1.len()]);
        out.push(lowpass(&u1r, &u1i, k1));
        if p.config.max_order < 2 {
            continue;
        }
        for (n2, w2) in p.psi2.iter().enumerate() {
            if w2.j > w1.j {
                let k2 = ((w2.j as usize).min(log2_t)).saturating_sub(k1);
                let (a, b) = mul(&u1r, &u1i, &filters::level(&psi2[n2], k1 as u32));
                let (a, b) = subsample(&a, &b, 1 << k2);
                let (a, b) = ifft_c(&a, &b);
                let u2: Vec<f64> = a.iter().zip(&b).map(|(r, i)| r.hypot(*i)).collect();
                let (u2r, u2i) = fft_c(&u2, &vec![0.0; u2.len()]);
                second.push(lowpass(&u2r, &u2i, k1 + k2));
            }
        }
    }
    out.extend(second);
    out
}

fn close(a: f64, r: f64) -> bool {
    (a - r).abs() <= 1e-10 + 1e-8 * r.abs()
}

#[test]
fn kernel_equals_literal_kymatio_algorithm() {
    for (j, q1, q2, order) in [(6, 4, 1, 2), (2, 6, 1, 2), (4, 8, 1, 1), (6, 4, 2, 2), (3, 2, 2, 2), (8, 1, 1, 2)] {
        let p = plan(j, q1, q2, order);
        let x = zscore(&random_walk(256, 11 + j as u64));
        let refs = reference(&p, &x);
        assert_eq!(refs.len(), p.channels);
        let mut s = vec![0.0; p.channels * p.t_out];
        let mut f = vec![0.0; p.channels];
        transform(&p, &x, false, 1, &mut s, Some(&mut f)).unwrap();
        for (c, row) in refs.iter().enumerate() {
            for (t, &r) in row.iter().enumerate() {
                let v = s[c * p.t_out + t];
                assert!(close(v, r), "J={j} Q=({q1},{q2}) row {c} t {t}: {v} vs {r}");
            }
            let mean = row.iter().sum::<f64>() / row.len() as f64;
            assert!(close(f[c], mean), "J={j} feature {c}: {} vs {mean}", f[c]);
        }
    }
}

#[test]
fn batch_equals_single_and_any_thread_count_bit_for_bit() {
    let p = plan(6, 4, 1, 2);
    let series = random_walk(256 + 37, 5);
    let n_win = p.n_windows(series.len(), 3);
    let c = p.channels;
    let mut base = vec![0.0f64; n_win * c];
    features_batch(&p, &series, 3, true, 1, &mut base).unwrap();
    for threads in [2, 3, 8] {
        let mut o = vec![0.0f64; n_win * c];
        features_batch(&p, &series, 3, true, threads, &mut o).unwrap();
        assert!(o.iter().zip(&base).all(|(a, b)| a.to_bits() == b.to_bits()), "threads={threads}");
    }
    for w in 0..n_win {
        let mut one = vec![0.0f64; c];
        features_single(&p, &series[w * 3..w * 3 + 256], true, &mut one).unwrap();
        assert!(one.iter().zip(&base[w * c..(w + 1) * c]).all(|(a, b)| a.to_bits() == b.to_bits()), "window {w}");
    }
    let mut f32s = vec![0f32; n_win * c];
    features_batch(&p, &series, 3, true, 2, &mut f32s).unwrap();
    assert!(f32s.iter().zip(&base).all(|(a, b)| *a == *b as f32));
}

#[test]
fn flat_window_gives_zeros_and_zscore_is_scale_free() {
    let p = plan(6, 4, 1, 2);
    let mut out = vec![1.0; p.channels];
    features_single(&p, &[1.1; 256], true, &mut out).unwrap();
    assert!(out.iter().all(|v| *v == 0.0));
    let w = random_walk(256, 9);
    let w2: Vec<f64> = w.iter().map(|v| 3.0 * v + 7.0).collect();
    let (mut a, mut b) = (vec![0.0; p.channels], vec![0.0; p.channels]);
    features_single(&p, &w, true, &mut a).unwrap();
    features_single(&p, &w2, true, &mut b).unwrap();
    assert!(a.iter().zip(&b).all(|(x, y)| close(*x, *y)));
}

#[test]
fn bad_inputs_are_errors() {
    let p = plan(6, 4, 1, 2);
    let mut out = vec![0.0; p.channels];
    let mut w = random_walk(256, 1);
    assert!(features_single(&p, &w[..255], true, &mut out).unwrap_err().contains("expected 256"));
    w[17] = f64::NAN;
    assert!(features_single(&p, &w, true, &mut out).unwrap_err().contains("window[17] is NaN"));
    w[17] = f64::INFINITY;
    assert!(features_single(&p, &w, true, &mut out).unwrap_err().contains("window[17] is inf"));
    let s = random_walk(300, 2);
    let mut o = vec![0.0; 3];
    assert!(features_batch(&p, &s, 1, true, 1, &mut o).unwrap_err().contains("expected 45 windows"));
    assert!(features_batch(&p, &s[..100], 1, true, 1, &mut o).unwrap_err().contains("fewer than one window"));
    assert!(features_batch(&p, &s, 0, true, 1, &mut o).unwrap_err().contains("stride"));
}

#[test]
fn avx2_build_and_baseline_build_give_the_same_bits() {
    let mut p = plan(6, 4, 2, 2);
    if !p.avx2 {
        eprintln!("no AVX2 on this CPU: only the baseline build runs here");
        return;
    }
    let series = random_walk(256 + 63, 21);
    let n_win = p.n_windows(series.len(), 1);
    let mut fast = vec![0.0f64; n_win * p.channels];
    features_batch(&p, &series, 1, true, 2, &mut fast).unwrap();
    p.avx2 = false;
    let mut base = vec![0.0f64; n_win * p.channels];
    features_batch(&p, &series, 1, true, 2, &mut base).unwrap();
    assert!(fast.iter().zip(&base).all(|(a, b)| a.to_bits() == b.to_bits()));
    // and the generic kernel on plain f64 (one signal, no lanes) agrees with the lanes
    let w = zscore(&series[5..261]);
    let mut sc: kernel::Scratch<f64> = kernel::Scratch::new(&p, true);
    sc.win.copy_from_slice(&w);
    kernel::run(&p, &mut sc, true, false);
    assert!(sc.feat.iter().zip(&base[5 * p.channels..6 * p.channels]).all(|(a, b)| a.to_bits() == b.to_bits()));
}

#[test]
fn only_samples_inside_windows_must_be_finite() {
    let p = plan(2, 1, 1, 1);
    let mut s = random_walk(256 + 10, 3);
    // stride 4 over 266 samples: windows start at 0, 4, 8; the last covers samples 8..264.
    s[264] = f64::NAN;
    s[265] = f64::NAN;
    let mut o = vec![0.0f64; p.n_windows(s.len(), 4) * p.channels];
    features_batch(&p, &s, 4, true, 1, &mut o).unwrap();
    s[263] = f64::INFINITY;
    assert!(features_batch(&p, &s, 4, true, 1, &mut o).unwrap_err().contains("series[263] is inf"));
}

#[test]
fn columns_are_the_batch_transposed_plus_order0_samples_and_last_sample() {
    let p = plan(6, 4, 1, 2);
    let series = random_walk(256 + 300, 11);
    let n_win = p.n_windows(series.len(), 1);
    let (c, t) = (p.channels, p.t_out);
    let mut batch = vec![0f32; n_win * c];
    features_batch(&p, &series, 1, true, 1, &mut batch).unwrap();
    let dir = Directional { order0_samples: true, last_sample: true };
    let k_cols = columns_count(&p, dir);
    assert_eq!(k_cols, c + t + 1);
    let stride = n_win + 5; // a table taller than the windows: the rows past them stay untouched
    let mut base = vec![-7f32; k_cols * stride];
    features_columns(&p, &series, 1, true, 1, dir, &mut base, stride).unwrap();
    for threads in [2, 3, 8] {
        let mut o = vec![-7f32; k_cols * stride];
        features_columns(&p, &series, 1, true, threads, dir, &mut o, stride).unwrap();
        assert!(o.iter().zip(&base).all(|(a, b)| a.to_bits() == b.to_bits()), "threads={threads}");
    }
    // the full transform of each window gives S row 0 (order 0 at its output times) and the z-scored window
    let wins: Vec<f64> = (0..n_win).step_by(37).flat_map(|w| zscore(&series[w..w + 256])).collect();
    let n_sig = wins.len() / 256;
    let mut s = vec![0.0; n_sig * c * t];
    transform(&p, &wins, false, 1, &mut s, None).unwrap();
    for (i, w) in (0..n_win).step_by(37).enumerate() {
        for k in 0..c {
            assert_eq!(base[k * stride + w].to_bits(), batch[w * c + k].to_bits(), "window {w} channel {k}");
        }
        for k in 0..t {
            assert_eq!(base[(c + k) * stride + w], s[i * c * t + k] as f32, "window {w} order-0 sample {k}");
        }
        assert_eq!(base[(c + t) * stride + w], wins[i * 256 + 255] as f32, "window {w} last sample");
        assert_eq!(base[(c + t) * stride + n_win], -7.0);
    }
    // only the outputs asked for, in the same order
    let only_last = Directional { order0_samples: false, last_sample: true };
    let mut o = vec![0f32; columns_count(&p, only_last) * n_win];
    features_columns(&p, &series, 1, true, 2, only_last, &mut o, n_win).unwrap();
    assert_eq!(&o[..c * n_win], &base.chunks(stride).take(c).flat_map(|col| col[..n_win].to_vec()).collect::<Vec<_>>()[..]);
    assert_eq!(&o[c * n_win..], &base[(c + t) * stride..(c + t) * stride + n_win]);
}

#[test]
fn orders_one_and_two_ignore_the_sign_of_the_window_order_zero_flips_with_it() {
    let p = plan(6, 4, 1, 2);
    let x = random_walk(256, 31);
    let neg: Vec<f64> = x.iter().map(|v| -v).collect();
    let dir = Directional { order0_samples: true, last_sample: true };
    let k = columns_count(&p, dir);
    let (mut a, mut b) = (vec![0f64; k], vec![0f64; k]);
    features_columns(&p, &x, 1, true, 1, dir, &mut a, 1).unwrap();
    features_columns(&p, &neg, 1, true, 1, dir, &mut b, 1).unwrap();
    let order0 = [0].into_iter().chain(p.channels..k);
    for i in order0 {
        assert_eq!(a[i].to_bits(), (-b[i]).to_bits(), "output {i} is not exactly negated");
        assert!(a[i] != 0.0);
    }
    for i in 1..p.channels {
        assert_eq!(a[i].to_bits(), b[i].to_bits(), "order-1/2 output {i} depends on the sign");
    }
}

#[test]
fn columns_reject_overlapping_or_short_outputs() {
    let p = plan(6, 4, 1, 2);
    let s = random_walk(300, 2);
    let dir = Directional { order0_samples: true, last_sample: false };
    let k = columns_count(&p, dir);
    let mut o = vec![0f32; k * 45];
    assert!(features_columns(&p, &s, 1, true, 1, dir, &mut o, 44).unwrap_err().contains("below the 45 windows"));
    let mut short = vec![0f32; k * 45 - 1];
    assert!(features_columns(&p, &s, 1, true, 1, dir, &mut short, 45).unwrap_err().contains("expected at least"));
}
