//! 1-D wavelet scattering transform equal to Kymatio 0.4's `Scattering1D(J, shape=length, Q=(Q1, Q2),
//! max_order)` with its defaults (T = stride = 2^J, average='local', oversampling 0, reflect padding).
//!
//! Entry points, all on an immutable [`WstPlan`] (safe to share between threads):
//! - [`features_batch`]: every sliding window of a series at a stride, z-scored per window, time-averaged
//!   output (C values per window), multi-threaded;
//! - [`features_single`]: the same for one window (live use) — same code path, same bits;
//! - [`features_columns`]: the batch written column-major (feature k of window w at
//!   `out[k * col_stride + w]`, as a feature table stores it), optionally followed by the directional
//!   outputs: the order-0 path at its output times and the last sample of the normalised window;
//! - [`transform`]: full output S [C][T_out] (and its time average) of given signals.
//!
//! Windows are processed four at a time, one per lane of [`F64x4`]; a window's result is the same in
//! any lane, so it depends neither on the thread count (chunk boundaries depend only on the number of
//! windows) nor on being computed alone (`features_single` fills all lanes with the one window).

pub mod filters;
mod kernel;
pub mod plan;

pub use plan::{PathMeta, WstConfig, WstPlan};

use crate::fft::{F64x4, LANES};
use crate::util::par::for_each_chunk;
use std::sync::Mutex;
use kernel::Scratch;

/// Windows per work unit of the thread pool (a multiple of the lane count).
const CHUNK: usize = 256;

/// Output element of the batch call.
pub trait OutValue: Copy + Send + Sync + 'static {
    fn from_f64(v: f64) -> Self;
}
impl OutValue for f64 {
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v
    }
}
impl OutValue for f32 {
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v as f32
    }
}

fn check_finite(x: &[f64], what: &str) -> Result<(), String> {
    if let Some(i) = x.iter().position(|v| !v.is_finite()) {
        return Err(format!("{what}[{i}] is {} (every sample must be finite)", x[i]));
    }
    Ok(())
}

/// Writes window `w` into lane `lane`, z-scored when asked: (w - mean) / std with the population std;
/// a flat window (all samples equal) becomes zeros.
fn load_lane(w: &[f64], zscore: bool, lane: usize, dst: &mut [F64x4]) {
    if !zscore {
        for (d, &v) in dst.iter_mut().zip(w) {
            d.0[lane] = v;
        }
        return;
    }
    let n = w.len() as f64;
    let first = w[0];
    let mean = w.iter().sum::<f64>() / n;
    let var = w.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    let std = var.sqrt();
    // "Flat" is decided on the samples themselves: the mean of equal samples may be off by an ulp,
    // which would otherwise turn a flat window into +-1 everywhere.
    let flat = w.iter().all(|&v| v == first) || std.is_nan() || std < f64::MIN_POSITIVE;
    for (d, &v) in dst.iter_mut().zip(w) {
        d.0[lane] = if flat { 0.0 } else { (v - mean) / std };
    }
}

/// Number of output values of [`features_batch`] for a series of `n` samples.
pub fn features_batch_len(plan: &WstPlan, n: usize, stride: usize) -> usize {
    plan.n_windows(n, stride) * plan.channels
}

/// Time-averaged scattering of every window `series[w*stride .. w*stride + length]`, written to
/// `out[w*C .. (w+1)*C]`.
pub fn features_batch<O: OutValue>(
    plan: &WstPlan,
    series: &[f64],
    stride: usize,
    zscore: bool,
    threads: usize,
    out: &mut [O],
) -> Result<(), String> {
    let n_win = check_series(plan, series, stride)?;
    let c = plan.channels;
    if out.len() != n_win * c {
        return Err(format!("output holds {} values, expected {n_win} windows x {c} channels = {}", out.len(), n_win * c));
    }
    let slots = chunk_slots(out, CHUNK * c);
    for_each_chunk(n_win, CHUNK, threads, |ci, a, b| {
        let rows = take_slot(&slots, ci);
        let mut sc: Scratch<F64x4> = Scratch::new(plan, false);
        lane_groups(plan, &mut sc, series, stride, zscore, (a, b), (false, false), |g, lanes, sc| {
            let dst = &mut rows[(g - a) * c..(g - a + lanes) * c];
            for lane in 0..lanes {
                for (k, f) in sc.feat.iter().enumerate() {
                    dst[lane * c + k] = O::from_f64(f.0[lane]);
                }
            }
        });
    });
    Ok(())
}

/// Runs the kernel on windows a..b (window w = `series[w * stride .. w * stride + length]`), four at
/// a time, and hands each group to `emit(first window, lanes used, scratch)`. `run` is (full S,
/// order-0 samples).
#[allow(clippy::too_many_arguments)]
fn lane_groups(
    plan: &WstPlan,
    sc: &mut Scratch<F64x4>,
    series: &[f64],
    stride: usize,
    zscore: bool,
    (a, b): (usize, usize),
    (full, order0): (bool, bool),
    mut emit: impl FnMut(usize, usize, &Scratch<F64x4>),
) {
    let len = plan.config.length;
    let mut g = a;
    while g < b {
        let lanes = (b - g).min(LANES);
        for lane in 0..LANES {
            // Spare lanes repeat the last window; their results are discarded.
            let w = g + lane.min(lanes - 1);
            load_lane(&series[w * stride..w * stride + len], zscore, lane, &mut sc.win);
        }
        kernel::run_lanes(plan, sc, full, order0);
        emit(g, lanes, sc);
        g += lanes;
    }
}

/// Outputs of [`features_columns`] after the C time averages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Directional {
    /// The order-0 path (low-passed window) at each of its T_out output times: S row 0.
    pub order0_samples: bool,
    /// The last sample of the window as the transform saw it (z-scored: the z-score of the last value).
    pub last_sample: bool,
}

/// Number of output columns of [`features_columns`].
pub fn columns_count(plan: &WstPlan, dir: Directional) -> usize {
    plan.channels + if dir.order0_samples { plan.t_out } else { 0 } + usize::from(dir.last_sample)
}

/// [`features_batch`] written column-major: column k of window w at `out[k * col_stride + w]`, for the
/// C time averages, then (as asked in `dir`) the T_out order-0 samples and the last normalised
/// sample. A caller's table of `col_stride` rows receives the windows as rows 0..n_windows; the
/// time averages are bit-identical to [`features_batch`]'s.
#[allow(clippy::too_many_arguments)]
pub fn features_columns<O: OutValue>(
    plan: &WstPlan,
    series: &[f64],
    stride: usize,
    zscore: bool,
    threads: usize,
    dir: Directional,
    out: &mut [O],
    col_stride: usize,
) -> Result<(), String> {
    let n_win = check_series(plan, series, stride)?;
    let k_cols = columns_count(plan, dir);
    if col_stride < n_win {
        return Err(format!("column stride {col_stride} is below the {n_win} windows (columns would overlap)"));
    }
    let need = (k_cols - 1) * col_stride + n_win;
    if out.len() < need {
        return Err(format!("output holds {} values, expected at least {need} ({k_cols} columns of stride {col_stride}, {n_win} windows)", out.len()));
    }
    // Each chunk of windows owns its piece of every column: threads write without sharing anything.
    let n_chunks = n_win.div_ceil(CHUNK);
    let mut pieces: Vec<Vec<&mut [O]>> = (0..n_chunks).map(|_| Vec::with_capacity(k_cols)).collect();
    let mut rest = out;
    for k in 0..k_cols {
        let take = if k + 1 < k_cols { col_stride } else { rest.len() };
        let (col, tail) = rest.split_at_mut(take);
        rest = tail;
        for (ci, piece) in col[..n_win].chunks_mut(CHUNK).enumerate() {
            pieces[ci].push(piece);
        }
    }
    let slots: Vec<Mutex<Option<Vec<&mut [O]>>>> = pieces.into_iter().map(|p| Mutex::new(Some(p))).collect();
    let (c, len) = (plan.channels, plan.config.length);
    for_each_chunk(n_win, CHUNK, threads, |ci, a, b| {
        let mut cols = take_slot(&slots, ci);
        let mut sc: Scratch<F64x4> = Scratch::new(plan, false);
        lane_groups(plan, &mut sc, series, stride, zscore, (a, b), (false, dir.order0_samples), |g, lanes, sc| {
            for lane in 0..lanes {
                let r = g - a + lane;
                for (k, f) in sc.feat.iter().enumerate() {
                    cols[k][r] = O::from_f64(f.0[lane]);
                }
                let mut k = c;
                if dir.order0_samples {
                    for v in &sc.s0 {
                        cols[k][r] = O::from_f64(v.0[lane]);
                        k += 1;
                    }
                }
                if dir.last_sample {
                    cols[k][r] = O::from_f64(sc.win[len - 1].0[lane]);
                }
            }
        });
    });
    Ok(())
}

/// Validates a series for the batch calls and returns its number of windows.
fn check_series(plan: &WstPlan, series: &[f64], stride: usize) -> Result<usize, String> {
    if stride == 0 {
        return Err("stride must be >= 1".into());
    }
    let len = plan.config.length;
    if series.len() < len {
        return Err(format!("series has {} samples, fewer than one window of {len}", series.len()));
    }
    let n_win = plan.n_windows(series.len(), stride);
    // Only samples inside some window matter (a NaN in an unused tail or gap is not an error).
    if stride <= len {
        check_finite(&series[..(n_win - 1) * stride + len], "series")?;
    } else {
        for w in 0..n_win {
            check_finite(&series[w * stride..w * stride + len], "series")
                .map_err(|e| format!("{e} (window {w}, samples {}..{})", w * stride, w * stride + len))?;
        }
    }
    Ok(n_win)
}

/// Splits an output into the disjoint pieces written by each chunk of `for_each_chunk` (chunk i owns
/// rows [i*chunk, (i+1)*chunk)), so that threads write without sharing anything.
fn chunk_slots<O>(out: &mut [O], per_chunk: usize) -> Vec<Mutex<Option<&mut [O]>>> {
    out.chunks_mut(per_chunk.max(1)).map(|s| Mutex::new(Some(s))).collect()
}

fn take_slot<S: Default>(slots: &[Mutex<Option<S>>], i: usize) -> S {
    slots.get(i).and_then(|m| m.lock().ok()).and_then(|mut g| g.take()).unwrap_or_default()
}

/// Time-averaged scattering of one window (`length` samples) into `out` (C values): the code path of
/// [`features_batch`], so the result is bit-identical to that window's row there.
pub fn features_single(plan: &WstPlan, window: &[f64], zscore: bool, out: &mut [f64]) -> Result<(), String> {
    let len = plan.config.length;
    if window.len() != len {
        return Err(format!("window has {} samples, expected {len}", window.len()));
    }
    check_finite(window, "window")?;
    if out.len() != plan.channels {
        return Err(format!("output holds {} values, expected {} channels", out.len(), plan.channels));
    }
    let mut sc: Scratch<F64x4> = Scratch::new(plan, false);
    for lane in 0..LANES {
        load_lane(window, zscore, lane, &mut sc.win);
    }
    kernel::run_lanes(plan, &mut sc, false, false);
    for (o, f) in out.iter_mut().zip(&sc.feat) {
        *o = f.0[0];
    }
    Ok(())
}

/// Full scattering S [C][T_out] of `signals` (n_signals x length, row-major) into `s_out`
/// (n_signals x C x T_out), and optionally the time averages into `feat_out` (n_signals x C).
pub fn transform(
    plan: &WstPlan,
    signals: &[f64],
    zscore: bool,
    threads: usize,
    s_out: &mut [f64],
    feat_out: Option<&mut [f64]>,
) -> Result<(), String> {
    let len = plan.config.length;
    if signals.is_empty() || !signals.len().is_multiple_of(len) {
        return Err(format!("signals hold {} samples, expected a positive multiple of the length {len}", signals.len()));
    }
    check_finite(signals, "signals")?;
    let n_sig = signals.len() / len;
    let (c, t) = (plan.channels, plan.t_out);
    if s_out.len() != n_sig * c * t {
        return Err(format!("S output holds {} values, expected {n_sig} x {c} x {t} = {}", s_out.len(), n_sig * c * t));
    }
    if let Some(f) = &feat_out {
        if f.len() != n_sig * c {
            return Err(format!("feature output holds {} values, expected {n_sig} x {c} = {}", f.len(), n_sig * c));
        }
    }
    const TCHUNK: usize = 16;
    let s_slots = chunk_slots(s_out, TCHUNK * c * t);
    let f_slots = feat_out.map(|f| chunk_slots(f, TCHUNK * c));
    for_each_chunk(n_sig, TCHUNK, threads, |ci, a, b| {
        let s_rows = take_slot(&s_slots, ci);
        let mut f_rows = f_slots.as_ref().map(|fs| take_slot(fs, ci));
        let mut sc: Scratch<F64x4> = Scratch::new(plan, true);
        lane_groups(plan, &mut sc, signals, len, zscore, (a, b), (true, false), |g, lanes, sc| {
            let s_dst = &mut s_rows[(g - a) * c * t..(g - a + lanes) * c * t];
            for lane in 0..lanes {
                for (k, v) in sc.s.iter().enumerate() {
                    s_dst[lane * c * t + k] = v.0[lane];
                }
            }
            if let Some(fr) = f_rows.as_deref_mut() {
                let f_dst = &mut fr[(g - a) * c..(g - a + lanes) * c];
                for lane in 0..lanes {
                    for (k, v) in sc.feat.iter().enumerate() {
                        f_dst[lane * c + k] = v.0[lane];
                    }
                }
            }
        });
    });
    Ok(())
}

#[cfg(test)]
mod tests;
