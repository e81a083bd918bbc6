//! The C ABI. Conventions (see ARCHITECTURE.md): every exported function returns an `i32` status
//! (0 = ok); on failure the message is kept per thread and read with `swt_last_error`. Panics never
//! cross the ABI: `guard` catches them and turns them into `STATUS_PANIC`.
//!
//! Each native module has its own file here (`ffi/wst.rs`, `ffi/mcts.rs`, …) so that the `unsafe`
//! pointer handling stays at this edge and the modules themselves work on plain slices.

pub mod montecarlo;
pub mod wst;
pub mod mcts;

use std::cell::RefCell;
use std::ffi::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Bumped whenever an exported signature or its meaning changes; `bindings/` refuses a library whose
/// version differs from the one it was written for.
/// 2: the MCTS configuration crosses by field name; backpropagate takes per-transition discounts.
/// 3: swt_wst_features_columns_f32 (column-major WST batch with the directional outputs).
pub const ABI_VERSION: i32 = 3;

pub const STATUS_OK: i32 = 0;
/// Invalid argument (bad length, NaN, unsupported configuration …).
pub const STATUS_INVALID: i32 = 1;
/// A call made in the wrong state (e.g. backpropagate before traverse).
pub const STATUS_STATE: i32 = 2;
/// A null or freed handle.
pub const STATUS_HANDLE: i32 = 3;
/// A panic inside the library (a bug): the message says where.
pub const STATUS_PANIC: i32 = 99;

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

/// The most recent error of any thread. koffi runs `.async` calls on its own worker threads, whose
/// thread-local message the JS thread cannot read; the bindings read this copy after an async failure.
static LAST_ERROR_ANY: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());

/// An error crossing the ABI: a status code and a message for `swt_last_error`.
#[derive(Debug, Clone)]
pub struct FfiError {
    pub status: i32,
    pub message: String,
}

impl FfiError {
    pub fn invalid(msg: impl Into<String>) -> Self {
        FfiError { status: STATUS_INVALID, message: msg.into() }
    }
    pub fn state(msg: impl Into<String>) -> Self {
        FfiError { status: STATUS_STATE, message: msg.into() }
    }
    pub fn handle(msg: impl Into<String>) -> Self {
        FfiError { status: STATUS_HANDLE, message: msg.into() }
    }
}

impl From<String> for FfiError {
    fn from(message: String) -> Self {
        FfiError::invalid(message)
    }
}

impl From<&str> for FfiError {
    fn from(message: &str) -> Self {
        FfiError::invalid(message)
    }
}

pub fn set_last_error(msg: &str) {
    LAST_ERROR.with(|e| {
        let mut e = e.borrow_mut();
        e.clear();
        e.push_str(msg);
    });
    if let Ok(mut g) = LAST_ERROR_ANY.lock() {
        g.clear();
        g.push_str(msg);
    }
}

unsafe fn copy_message(msg: &str, buf: *mut c_char, len: usize) -> usize {
    let bytes = msg.as_bytes();
    if !buf.is_null() && len > 0 {
        let n = bytes.len().min(len - 1);
        std::ptr::copy_nonoverlapping(bytes.as_ptr() as *const c_char, buf, n);
        *buf.add(n) = 0;
    }
    bytes.len()
}

thread_local! {
    static PANIC_LOCATION: RefCell<String> = const { RefCell::new(String::new()) };
}

/// A library loaded into Node must not print Rust backtraces on the host's stderr: the hook records
/// where the panic happened and `guard` reports it through `swt_last_error`.
fn install_quiet_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let loc = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
            PANIC_LOCATION.with(|p| *p.borrow_mut() = loc);
        }));
    });
}

/// Runs `f`, converting an `Err` or a panic into a status code and a stored message.
pub fn guard<F>(f: F) -> i32
where
    F: FnOnce() -> Result<(), FfiError>,
{
    install_quiet_panic_hook();
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => STATUS_OK,
        Ok(Err(e)) => {
            set_last_error(&e.message);
            e.status
        }
        Err(panic) => {
            let msg = if let Some(s) = panic.downcast_ref::<&str>() {
                (*s).to_string()
            } else if let Some(s) = panic.downcast_ref::<String>() {
                s.clone()
            } else {
                "unknown panic".to_string()
            };
            let loc = PANIC_LOCATION.with(|p| p.borrow().clone());
            set_last_error(&format!("internal error (panic) in swt native library: {msg} (at {loc})"));
            STATUS_PANIC
        }
    }
}

/// Borrows a caller-owned input array.
///
/// # Safety
/// `ptr` must point to `len` initialised values that stay valid and unmodified for the call.
pub unsafe fn slice_in<'a, T>(ptr: *const T, len: usize, name: &str) -> Result<&'a [T], FfiError> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(FfiError::invalid(format!("{name}: null pointer with length {len}")));
    }
    Ok(std::slice::from_raw_parts(ptr, len))
}

/// Borrows a caller-owned output array.
///
/// # Safety
/// `ptr` must point to `len` writable values, not aliased by any other argument, valid for the call.
pub unsafe fn slice_out<'a, T>(ptr: *mut T, len: usize, name: &str) -> Result<&'a mut [T], FfiError> {
    if len == 0 {
        return Ok(&mut []);
    }
    if ptr.is_null() {
        return Err(FfiError::invalid(format!("{name}: null pointer with length {len}")));
    }
    Ok(std::slice::from_raw_parts_mut(ptr, len))
}

/// Borrows an opaque handle created by one of the `*_new` functions.
///
/// # Safety
/// `ptr` must be null or a pointer returned by `Box::into_raw` for a `T` that has not been freed.
pub unsafe fn handle_mut<'a, T>(ptr: *mut T, name: &str) -> Result<&'a mut T, FfiError> {
    ptr.as_mut().ok_or_else(|| FfiError::handle(format!("{name}: null handle (freed or never created)")))
}

#[no_mangle]
pub extern "C" fn swt_abi_version() -> i32 {
    ABI_VERSION
}

/// Copies the calling thread's last error message into `buf` (NUL-terminated, truncated to `len`).
/// Returns the full message length in bytes.
///
/// # Safety
/// `buf` must be null or point to `len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn swt_last_error(buf: *mut c_char, len: usize) -> usize {
    LAST_ERROR.with(|e| copy_message(&e.borrow(), buf, len))
}

/// Like `swt_last_error`, but the most recent error of any thread (for failures of async calls).
///
/// # Safety
/// `buf` must be null or point to `len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn swt_last_error_any(buf: *mut c_char, len: usize) -> usize {
    let msg = LAST_ERROR_ANY.lock().map(|g| g.clone()).unwrap_or_default();
    copy_message(&msg, buf, len)
}

/// Self-test of the error path, so the bindings can verify error mapping end to end:
/// `mode` 0 → ok, 1 → invalid-argument error, 2 → a panic caught at the edge.
#[no_mangle]
pub extern "C" fn swt_selftest(mode: i32) -> i32 {
    guard(|| match mode {
        0 => Ok(()),
        1 => Err(FfiError::invalid("selftest: invalid argument requested")),
        _ => panic!("selftest panic requested"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn last_error() -> String {
        let mut buf = vec![0 as c_char; 256];
        let n = unsafe { swt_last_error(buf.as_mut_ptr(), buf.len()) };
        let bytes: Vec<u8> = buf[..n.min(255)].iter().map(|&c| c as u8).collect();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn errors_and_panics_become_statuses() {
        assert_eq!(swt_selftest(0), STATUS_OK);
        assert_eq!(swt_selftest(1), STATUS_INVALID);
        assert!(last_error().contains("invalid argument"));
        assert_eq!(swt_selftest(2), STATUS_PANIC);
        assert!(last_error().contains("selftest panic requested"));
    }
}
