//! swt native core. std only (crates.io is unreachable from the build machines), exposed as a C ABI
//! that `bindings/` loads with koffi. Every module is plain functions over slices; `unsafe` lives only in
//! `ffi/`, at the ABI edge.

pub mod ffi;
pub mod montecarlo;
pub mod fft;
pub mod mcts;
pub mod util;
pub mod wst;
