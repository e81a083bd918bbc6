//! C ABI of the wavelet scattering transform (`wst`). A plan is an opaque handle created by
//! `swt_wst_plan_new` and released by `swt_wst_plan_free`; it is immutable once built, so concurrent
//! calls on one plan (koffi `.async` from several promises) are safe. The caller owns every array.

use super::{guard, slice_in, slice_out, FfiError};
use crate::wst::{self, WstConfig, WstPlan};

/// Number of values written by `swt_wst_dims`.
pub const WST_DIMS_LEN: usize = 12;

fn nonneg(v: i32, name: &str) -> Result<u32, FfiError> {
    if v < 0 {
        return Err(FfiError::invalid(format!("{name} must be >= 0, got {v}")));
    }
    Ok(v as u32)
}

fn threads_arg(v: i32) -> Result<usize, FfiError> {
    if v < 0 {
        return Err(FfiError::invalid(format!("threads must be >= 0 (0 = all cores), got {v}")));
    }
    Ok(v as usize)
}

/// # Safety
/// `p` must be null or a pointer returned by `swt_wst_plan_new` and not yet freed.
unsafe fn plan_ref<'a>(p: *const WstPlan) -> Result<&'a WstPlan, FfiError> {
    p.as_ref().ok_or_else(|| FfiError::handle("wst plan: null handle (freed or never created)"))
}

/// Builds the plan of `Scattering1D(J, shape=length, Q=(q1, q2), max_order)` into `*out`.
///
/// # Safety
/// `out` must point to a writable pointer.
#[no_mangle]
pub unsafe extern "C" fn swt_wst_plan_new(j: i32, q1: i32, q2: i32, max_order: i32, length: i32, out: *mut *mut WstPlan) -> i32 {
    guard(|| {
        if out.is_null() {
            return Err(FfiError::invalid("swt_wst_plan_new: null output pointer"));
        }
        let cfg = WstConfig {
            j: nonneg(j, "J")?,
            q1: nonneg(q1, "Q1")?,
            q2: nonneg(q2, "Q2")?,
            max_order: nonneg(max_order, "max_order")?,
            length: nonneg(length, "length")? as usize,
        };
        let plan = WstPlan::new(cfg).map_err(FfiError::invalid)?;
        // SAFETY: out is non-null and points to writable storage per the contract above.
        *out = Box::into_raw(Box::new(plan));
        Ok(())
    })
}

/// Frees a plan (null is accepted and ignored).
///
/// # Safety
/// `p` must be null or a live pointer from `swt_wst_plan_new`, with no call using it in flight.
#[no_mangle]
pub unsafe extern "C" fn swt_wst_plan_free(p: *mut WstPlan) -> i32 {
    guard(|| {
        if !p.is_null() {
            // SAFETY: p came from Box::into_raw in swt_wst_plan_new and is freed once (the caller's contract).
            drop(Box::from_raw(p));
        }
        Ok(())
    })
}

/// Writes [channels, t_out, n_order0, n_order1, n_order2, length, n_padded, log2_T, J, Q1, Q2,
/// max_order].
///
/// # Safety
/// `p` a live plan; `out` points to `len` writable i32 (len >= 12).
#[no_mangle]
pub unsafe extern "C" fn swt_wst_dims(p: *const WstPlan, out: *mut i32, len: usize) -> i32 {
    guard(|| {
        let plan = plan_ref(p)?;
        if len < WST_DIMS_LEN {
            return Err(FfiError::invalid(format!("swt_wst_dims: output needs {WST_DIMS_LEN} values, got {len}")));
        }
        let o = slice_out(out, len, "dims")?;
        let c = &plan.config;
        let vals = [
            plan.channels,
            plan.t_out,
            plan.per_order[0],
            plan.per_order[1],
            plan.per_order[2],
            c.length,
            plan.n_padded,
            plan.log2_t as usize,
            c.j as usize,
            c.q1 as usize,
            c.q2 as usize,
            c.max_order as usize,
        ];
        for (d, v) in o.iter_mut().zip(vals) {
            *d = v as i32;
        }
        Ok(())
    })
}

/// Per-row meta data in Kymatio's row order: order[C]; n, j [C*2] (-1 where the row has no filter of
/// that order); xi, sigma [C*2] (NaN there). Row c's values for order k are at index 2c + k.
///
/// # Safety
/// `p` a live plan; each pointer to the stated number of writable values (`channels` = C).
#[no_mangle]
pub unsafe extern "C" fn swt_wst_meta(
    p: *const WstPlan,
    channels: usize,
    order: *mut i32,
    n: *mut i32,
    j: *mut i32,
    xi: *mut f64,
    sigma: *mut f64,
) -> i32 {
    guard(|| {
        let plan = plan_ref(p)?;
        if channels != plan.channels {
            return Err(FfiError::invalid(format!("swt_wst_meta: plan has {} channels, caller passed {channels}", plan.channels)));
        }
        let order = slice_out(order, channels, "order")?;
        let n = slice_out(n, 2 * channels, "n")?;
        let j = slice_out(j, 2 * channels, "j")?;
        let xi = slice_out(xi, 2 * channels, "xi")?;
        let sigma = slice_out(sigma, 2 * channels, "sigma")?;
        for (c, m) in plan.meta.iter().enumerate() {
            order[c] = m.order as i32;
            for k in 0..2 {
                n[2 * c + k] = m.n[k];
                j[2 * c + k] = m.j[k];
                xi[2 * c + k] = m.xi[k];
                sigma[2 * c + k] = m.sigma[k];
            }
        }
        Ok(())
    })
}

/// Full scattering of `n_values / length` signals (row-major) into `s_out` (signals x C x T_out) and,
/// when `feat_out` is not null, their time averages (signals x C). `zscore` != 0 normalises each
/// signal first; 0 uses the samples as given (Kymatio's behaviour).
///
/// # Safety
/// Pointers to the stated number of values, not aliasing each other.
#[no_mangle]
pub unsafe extern "C" fn swt_wst_transform(
    p: *const WstPlan,
    signals: *const f64,
    n_values: usize,
    zscore: i32,
    threads: i32,
    s_out: *mut f64,
    s_len: usize,
    feat_out: *mut f64,
    feat_len: usize,
) -> i32 {
    guard(|| {
        let plan = plan_ref(p)?;
        let x = slice_in(signals, n_values, "signals")?;
        let s = slice_out(s_out, s_len, "S output")?;
        let f = if feat_out.is_null() { None } else { Some(slice_out(feat_out, feat_len, "feature output")?) };
        wst::transform(plan, x, zscore != 0, threads_arg(threads)?, s, f).map_err(FfiError::invalid)
    })
}

/// Time-averaged scattering of every window of `length` samples of `series` at `stride`, z-scored per
/// window when `zscore` != 0, into `out` (windows x C, f64).
///
/// # Safety
/// `series` to `n` values, `out` to `out_len` writable values.
#[no_mangle]
pub unsafe extern "C" fn swt_wst_features_batch(
    p: *const WstPlan,
    series: *const f64,
    n: usize,
    stride: usize,
    zscore: i32,
    threads: i32,
    out: *mut f64,
    out_len: usize,
) -> i32 {
    guard(|| {
        let plan = plan_ref(p)?;
        let x = slice_in(series, n, "series")?;
        let o = slice_out(out, out_len, "output")?;
        wst::features_batch(plan, x, stride, zscore != 0, threads_arg(threads)?, o).map_err(FfiError::invalid)
    })
}

/// As `swt_wst_features_batch`, rounding the output to f32 (for compact storage).
///
/// # Safety
/// `series` to `n` values, `out` to `out_len` writable values.
#[no_mangle]
pub unsafe extern "C" fn swt_wst_features_batch_f32(
    p: *const WstPlan,
    series: *const f64,
    n: usize,
    stride: usize,
    zscore: i32,
    threads: i32,
    out: *mut f32,
    out_len: usize,
) -> i32 {
    guard(|| {
        let plan = plan_ref(p)?;
        let x = slice_in(series, n, "series")?;
        let o = slice_out(out, out_len, "output")?;
        wst::features_batch(plan, x, stride, zscore != 0, threads_arg(threads)?, o).map_err(FfiError::invalid)
    })
}

/// Bit of `outputs` in `swt_wst_features_columns_f32`: the order-0 path at its T_out output times.
pub const WST_OUT_ORDER0_SAMPLES: i32 = 1;
/// Bit of `outputs`: the last sample of each normalised window (the z-score of the last value).
pub const WST_OUT_LAST_SAMPLE: i32 = 2;

/// The batch of `swt_wst_features_batch` rounded to f32 and written column-major, as a feature table
/// stores it: column k of window w at `out[k * col_stride + w]`: the C time averages, then the T_out
/// order-0 samples when `outputs` has `WST_OUT_ORDER0_SAMPLES`, then the last normalised sample when
/// it has `WST_OUT_LAST_SAMPLE`. One window with `col_stride` 1 fills a feature row's first columns.
///
/// # Safety
/// `series` to `n` values, `out` to `out_len` writable values.
#[no_mangle]
pub unsafe extern "C" fn swt_wst_features_columns_f32(
    p: *const WstPlan,
    series: *const f64,
    n: usize,
    stride: usize,
    zscore: i32,
    threads: i32,
    outputs: i32,
    out: *mut f32,
    out_len: usize,
    col_stride: usize,
) -> i32 {
    guard(|| {
        let plan = plan_ref(p)?;
        if outputs & !(WST_OUT_ORDER0_SAMPLES | WST_OUT_LAST_SAMPLE) != 0 {
            return Err(FfiError::invalid(format!("outputs: unknown bits in {outputs} (1 = order-0 samples, 2 = last sample)")));
        }
        let dir = wst::Directional { order0_samples: outputs & WST_OUT_ORDER0_SAMPLES != 0, last_sample: outputs & WST_OUT_LAST_SAMPLE != 0 };
        let x = slice_in(series, n, "series")?;
        let o = slice_out(out, out_len, "output")?;
        wst::features_columns(plan, x, stride, zscore != 0, threads_arg(threads)?, dir, o, col_stride).map_err(FfiError::invalid)
    })
}

/// One window (`n` must equal the plan's length) into `out` (C values): bit-identical to the window's
/// row of `swt_wst_features_batch`.
///
/// # Safety
/// `window` to `n` values, `out` to `out_len` writable values.
#[no_mangle]
pub unsafe extern "C" fn swt_wst_features_single(
    p: *const WstPlan,
    window: *const f64,
    n: usize,
    zscore: i32,
    out: *mut f64,
    out_len: usize,
) -> i32 {
    guard(|| {
        let plan = plan_ref(p)?;
        let x = slice_in(window, n, "window")?;
        let o = slice_out(out, out_len, "output")?;
        wst::features_single(plan, x, zscore != 0, o).map_err(FfiError::invalid)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::{STATUS_HANDLE, STATUS_INVALID, STATUS_OK};

    #[test]
    fn plan_lifecycle_and_errors_through_the_abi() {
        let mut p: *mut WstPlan = std::ptr::null_mut();
        assert_eq!(unsafe { swt_wst_plan_new(0, 4, 1, 2, 256, &mut p) }, STATUS_INVALID);
        assert_eq!(unsafe { swt_wst_plan_new(6, -1, 1, 2, 256, &mut p) }, STATUS_INVALID);
        assert_eq!(unsafe { swt_wst_plan_new(6, 4, 1, 2, 256, &mut p) }, STATUS_OK);
        let mut dims = [0i32; 12];
        assert_eq!(unsafe { swt_wst_dims(p, dims.as_mut_ptr(), 12) }, STATUS_OK);
        assert_eq!(&dims[..5], &[67, 4, 1, 22, 44]);
        let w = vec![f64::NAN; 256];
        let mut out = vec![0.0; 67];
        assert_eq!(unsafe { swt_wst_features_single(p, w.as_ptr(), 256, 1, out.as_mut_ptr(), 67) }, STATUS_INVALID);
        assert_eq!(unsafe { swt_wst_features_single(std::ptr::null(), w.as_ptr(), 256, 1, out.as_mut_ptr(), 67) }, STATUS_HANDLE);
        assert_eq!(unsafe { swt_wst_plan_free(p) }, STATUS_OK);
    }
}
