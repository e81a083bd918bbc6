//! C ABI of the Monte Carlo module (`montecarlo/`). Inputs and outputs are caller-owned arrays; the
//! functions validate every length and value and report problems through `swt_last_error`.

use super::{guard, slice_in, slice_out, FfiError};
use crate::montecarlo::curves::{bootstrap, BatchOut};
use crate::montecarlo::safef::{safe_f, SafeFParams, REPEAT_FIELDS};
use crate::montecarlo::{car_from_twr, percentile_sorted, scenarios, validate_gains};

fn check_f(f: f64) -> Result<(), FfiError> {
    if !(f > 0.0 && f.is_finite()) {
        return Err(FfiError::invalid(format!("f must be a finite number > 0, got {f}")));
    }
    Ok(())
}

/// Bootstraps `curves` equity curves of `draws` draws at fraction `f`. Writes each curve's TWR and max
/// drawdown (`curves` values each) and, when `paths_out` is not null, the equity paths as `curves` rows
/// of `draws + 1` values (`paths_len` must be exactly `curves * (draws + 1)`).
///
/// # Safety
/// `gains` points to `n` doubles; `twr_out` and `dd_out` to `curves` writable doubles each; `paths_out`
/// is null or points to `paths_len` writable doubles; no output aliases another argument.
#[no_mangle]
pub unsafe extern "C" fn swt_mc_bootstrap(
    gains: *const f64,
    n: usize,
    f: f64,
    draws: usize,
    curves: usize,
    seed: u64,
    threads: usize,
    twr_out: *mut f64,
    dd_out: *mut f64,
    paths_out: *mut f64,
    paths_len: usize,
) -> i32 {
    guard(|| {
        // SAFETY: lengths are the caller's contract above; slice_in/out reject null with length > 0.
        let gains = unsafe { slice_in(gains, n, "gains")? };
        validate_gains(gains)?;
        check_f(f)?;
        if draws < 1 {
            return Err(FfiError::invalid("forecast must be at least 1 draw, got 0"));
        }
        if curves < 1 {
            return Err(FfiError::invalid("curves must be at least 1, got 0"));
        }
        let twr = unsafe { slice_out(twr_out, curves, "twr_out")? };
        let max_dd = unsafe { slice_out(dd_out, curves, "dd_out")? };
        let paths = if paths_out.is_null() {
            None
        } else {
            let want = curves
                .checked_mul(draws + 1)
                .ok_or_else(|| FfiError::invalid("paths: curves * (draws + 1) overflows"))?;
            if paths_len != want {
                return Err(FfiError::invalid(format!(
                    "paths_out: length {paths_len} but curves * (draws + 1) = {want}"
                )));
            }
            Some(unsafe { slice_out(paths_out, paths_len, "paths_out")? })
        };
        bootstrap(gains, f, draws, seed, threads, BatchOut { twr, max_dd, paths });
        Ok(())
    })
}

/// Solves safe-f and CAR25 `repeats` times (see `montecarlo::safef`). `per_repeat_out` gets
/// `repeats * 8` doubles, per repeat `[safe_f, car25, twr25, tail_risk, tail_risk_check, evaluations,
/// status, seconds]`. `twr_out` / `dd_out` (both null, or both `repeats * curves` = `curves_len`) get
/// each repeat's CAR25 batch at safe-f.
///
/// # Safety
/// `gains` points to `n` doubles; `per_repeat_out` to `per_repeat_len` writable doubles; `twr_out` and
/// `dd_out` are null or point to `curves_len` writable doubles each; outputs do not alias.
#[no_mangle]
pub unsafe extern "C" fn swt_mc_safe_f(
    gains: *const f64,
    n: usize,
    draws: usize,
    curves: usize,
    tolerance: f64,
    tail_pct: f64,
    accuracy: f64,
    max_iter: usize,
    periods_per_year: f64,
    max_f: f64,
    repeats: usize,
    seed: u64,
    threads: usize,
    per_repeat_out: *mut f64,
    per_repeat_len: usize,
    twr_out: *mut f64,
    dd_out: *mut f64,
    curves_len: usize,
) -> i32 {
    guard(|| {
        // SAFETY: lengths are the caller's contract above; slice_in/out reject null with length > 0.
        let gains = unsafe { slice_in(gains, n, "gains")? };
        let p = SafeFParams { draws, curves, tolerance, tail_pct, accuracy, max_iter, periods_per_year, max_f, threads };
        if per_repeat_len != repeats.saturating_mul(REPEAT_FIELDS) {
            return Err(FfiError::invalid(format!(
                "per_repeat_out: length {per_repeat_len} but repeats * {REPEAT_FIELDS} = {}",
                repeats.saturating_mul(REPEAT_FIELDS)
            )));
        }
        let per_repeat = unsafe { slice_out(per_repeat_out, per_repeat_len, "per_repeat_out")? };
        if twr_out.is_null() != dd_out.is_null() {
            return Err(FfiError::invalid("twr_out and dd_out must both be given or both be null"));
        }
        let (twr, dd) = if twr_out.is_null() {
            (None, None)
        } else {
            if curves_len != repeats.saturating_mul(curves) {
                return Err(FfiError::invalid(format!(
                    "twr_out/dd_out: length {curves_len} but repeats * curves = {}",
                    repeats.saturating_mul(curves)
                )));
            }
            unsafe { (Some(slice_out(twr_out, curves_len, "twr_out")?), Some(slice_out(dd_out, curves_len, "dd_out")?)) }
        };
        let mut results = Vec::with_capacity(repeats);
        safe_f(gains, &p, repeats, seed, &mut results, twr, dd)?;
        for (r, res) in results.iter().enumerate() {
            res.write(&mut per_repeat[r * REPEAT_FIELDS..(r + 1) * REPEAT_FIELDS]);
        }
        Ok(())
    })
}

/// Summary of a set of curves: for each percentile in `ps` (0..=100), the percentile of TWR, of max
/// drawdown, and the CAR (%) of that TWR percentile over `draws` periods (`periods_per_year` a year).
/// Percentiles interpolate linearly between ranks (numpy's default).
///
/// # Safety
/// `twr` and `dd` point to `n` doubles; `ps` to `np` doubles; each output to `np` writable doubles.
#[no_mangle]
pub unsafe extern "C" fn swt_mc_summary(
    twr: *const f64,
    dd: *const f64,
    n: usize,
    ps: *const f64,
    np: usize,
    periods_per_year: f64,
    draws: usize,
    twr_pct_out: *mut f64,
    dd_pct_out: *mut f64,
    car_pct_out: *mut f64,
) -> i32 {
    guard(|| {
        // SAFETY: lengths are the caller's contract above.
        let (twr, dd, ps) = unsafe { (slice_in(twr, n, "twr")?, slice_in(dd, n, "dd")?, slice_in(ps, np, "ps")?) };
        if n == 0 {
            return Err(FfiError::invalid("summary of zero curves"));
        }
        if draws < 1 || !(periods_per_year > 0.0) {
            return Err(FfiError::invalid("summary: draws must be >= 1 and periods_per_year > 0"));
        }
        if let Some(p) = ps.iter().find(|p| !(0.0..=100.0).contains(*p)) {
            return Err(FfiError::invalid(format!("percentile {p} is outside [0, 100]")));
        }
        let (t_out, d_out, c_out) = unsafe {
            (
                slice_out(twr_pct_out, np, "twr_pct_out")?,
                slice_out(dd_pct_out, np, "dd_pct_out")?,
                slice_out(car_pct_out, np, "car_pct_out")?,
            )
        };
        let mut st = twr.to_vec();
        let mut sd = dd.to_vec();
        st.sort_unstable_by(f64::total_cmp);
        sd.sort_unstable_by(f64::total_cmp);
        for (i, &p) in ps.iter().enumerate() {
            t_out[i] = percentile_sorted(&st, p);
            d_out[i] = percentile_sorted(&sd, p);
            c_out[i] = car_from_twr(t_out[i], periods_per_year, draws);
        }
        Ok(())
    })
}

/// Applies a stress transform (kind 1 drop-random with `param` the fraction, 2 drop-best-winners with
/// `param` the fraction of winners, 3 adverse with `param` subtracted from every gain). Writes the new
/// gains to `out` (capacity `out_cap` >= n) and their count to `out_n[0]`.
///
/// # Safety
/// `gains` points to `n` doubles; `out` to `out_cap` writable doubles; `out_n` to one writable size_t.
#[no_mangle]
pub unsafe extern "C" fn swt_mc_scenario_gains(
    kind: i32,
    param: f64,
    gains: *const f64,
    n: usize,
    seed: u64,
    out: *mut f64,
    out_cap: usize,
    out_n: *mut usize,
) -> i32 {
    guard(|| {
        // SAFETY: lengths are the caller's contract above.
        let gains = unsafe { slice_in(gains, n, "gains")? };
        let out = unsafe { slice_out(out, out_cap, "out")? };
        let out_n = unsafe { slice_out(out_n, 1, "out_n")? };
        let mut v = Vec::with_capacity(n);
        scenarios::transform(kind, param, gains, seed, &mut v)?;
        if v.len() > out.len() {
            return Err(FfiError::invalid(format!("out: capacity {} but {} gains", out.len(), v.len())));
        }
        out[..v.len()].copy_from_slice(&v);
        out_n[0] = v.len();
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::{STATUS_INVALID, STATUS_OK};

    #[test]
    fn bootstrap_rejects_bad_inputs_with_a_status() {
        let g = [0.01, -0.01];
        let mut t = [0.0; 4];
        let mut d = [0.0; 4];
        let call = |gp: *const f64, n: usize, f: f64, draws: usize, t: &mut [f64], d: &mut [f64]| unsafe {
            swt_mc_bootstrap(gp, n, f, draws, 4, 1, 1, t.as_mut_ptr(), d.as_mut_ptr(), std::ptr::null_mut(), 0)
        };
        assert_eq!(call(g.as_ptr(), 2, 1.0, 10, &mut t, &mut d), STATUS_OK);
        assert_eq!(call(g.as_ptr(), 0, 1.0, 10, &mut t, &mut d), STATUS_INVALID);
        assert_eq!(call(g.as_ptr(), 2, 0.0, 10, &mut t, &mut d), STATUS_INVALID);
        assert_eq!(call(g.as_ptr(), 2, 1.0, 0, &mut t, &mut d), STATUS_INVALID);
        let nan = [f64::NAN];
        assert_eq!(call(nan.as_ptr(), 1, 1.0, 10, &mut t, &mut d), STATUS_INVALID);
    }
}
