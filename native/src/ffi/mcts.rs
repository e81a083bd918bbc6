//! C ABI of the batched MCTS (`crate::mcts`) and the value/reward support helpers.
//!
//! A search: `swt_mcts_new` (the configuration as named fields, below) → per decision
//! `swt_mcts_prepare`, then per simulation `swt_mcts_traverse` + `swt_mcts_backpropagate`, then the
//! results (`root_visits`, `root_values`, `root_q`, `improved_policy`, `select_action`, …) →
//! `swt_mcts_free`. Every array is passed with its length, which the library checks against the
//! batch's shape, so a wrong length is an error status naming the array, never an out-of-bounds access.
//!
//! ABI version 2 (see `ffi::ABI_VERSION`):
//! - `swt_mcts_new(config, config_len, out)`: `config` is UTF-8 text (`config_len` bytes, no NUL
//!   needed) of `name=value` entries separated by `;`, e.g.
//!   `max_trees=64;num_actions=4;num_codes=32;max_simulations=15;mode=gumbel;chance=deterministic;…`.
//!   Every name of `mcts::CONFIG_FIELDS` must appear exactly once: unknown, missing and repeated
//!   names and out-of-range values are refused with a message naming the field. There are no
//!   defaults on this side of the ABI (they live in config/default.yaml). Version 1 took a positional
//!   array of doubles checked only by count.
//! - `swt_mcts_backpropagate` takes `discounts` [n_trees] after `rewards`: the discount of the
//!   transition into each decision leaf (gamma normally, 0 when it ends the episode), or length 0
//!   for the configured discount everywhere.

use super::{guard, handle_mut, slice_in, slice_out, FfiError};
use crate::mcts::support::{h, h_inv, Support};
use crate::mcts::{Batch, Config, McError};

impl From<McError> for FfiError {
    fn from(e: McError) -> Self {
        match e {
            McError::Invalid(m) => FfiError::invalid(m),
            McError::State(m) => FfiError::state(m),
        }
    }
}

/// Creates a batch of trees from its configuration text (see the module comment); the handle is
/// written to `*out` (null on failure).
///
/// # Safety
/// `config` must point to `config_len` bytes; `out` must point to one writable pointer.
#[no_mangle]
pub unsafe extern "C" fn swt_mcts_new(config: *const u8, config_len: usize, out: *mut *mut Batch) -> i32 {
    guard(|| {
        if out.is_null() {
            return Err(FfiError::invalid("swt_mcts_new: null output pointer"));
        }
        // SAFETY: checked non-null above; the caller provides one writable pointer slot.
        *out = std::ptr::null_mut();
        // SAFETY: the caller guarantees `config` holds `config_len` bytes.
        let bytes = slice_in(config, config_len, "config")?;
        let text = std::str::from_utf8(bytes).map_err(|e| FfiError::invalid(format!("config: not UTF-8 text ({e})")))?;
        let cfg = Config::parse(text)?;
        // SAFETY: as above; ownership of the box passes to the caller until `swt_mcts_free`.
        *out = Box::into_raw(Box::new(Batch::new(cfg)?));
        Ok(())
    })
}

/// Frees a batch. A null handle is a no-op (freeing twice is prevented on the TypeScript side, which
/// forgets the pointer when it frees it).
///
/// # Safety
/// `h` must be null or a handle from `swt_mcts_new` not yet freed.
#[no_mangle]
pub unsafe extern "C" fn swt_mcts_free(h: *mut Batch) -> i32 {
    guard(|| {
        if !h.is_null() {
            // SAFETY: `h` came from Box::into_raw in swt_mcts_new and is freed once.
            drop(Box::from_raw(h));
        }
        Ok(())
    })
}

/// Starts a search for `n_trees` trees that will run `simulations` simulations (see `Batch::prepare`).
///
/// # Safety
/// `h` must be a live handle; each pointer must hold the number of elements given with it.
#[no_mangle]
pub unsafe extern "C" fn swt_mcts_prepare(
    h: *mut Batch,
    n_trees: usize,
    simulations: usize,
    priors: *const f64,
    priors_len: usize,
    priors_are_logits: i32,
    root_values: *const f64,
    root_values_len: usize,
    legal: *const u8,
    legal_len: usize,
    seed: f64,
    tree_ids: *const f64,
    tree_ids_len: usize,
) -> i32 {
    guard(|| {
        // SAFETY (this block): the caller guarantees the handle is live and the lengths match the
        // pointers; inputs are only read.
        let b = handle_mut(h, "swt_mcts_prepare")?;
        let priors = slice_in(priors, priors_len, "priors")?;
        let root_values = slice_in(root_values, root_values_len, "root_values")?;
        let legal = slice_in(legal, legal_len, "legal")?;
        let tree_ids = slice_in(tree_ids, tree_ids_len, "tree_ids")?;
        b.prepare(n_trees, simulations, priors, priors_are_logits != 0, root_values, legal, seed, tree_ids)?;
        Ok(())
    })
}

/// One selection step per tree: parent node index (latent index), action or code, leaf-is-chance.
///
/// # Safety
/// `h` must be a live handle; each output pointer must hold its length in writable elements and the
/// three outputs must not overlap.
#[no_mangle]
pub unsafe extern "C" fn swt_mcts_traverse(
    h: *mut Batch,
    parent_index: *mut i32,
    parent_len: usize,
    edge: *mut i32,
    edge_len: usize,
    is_chance: *mut u8,
    is_chance_len: usize,
) -> i32 {
    guard(|| {
        // SAFETY: see the function's contract.
        let b = handle_mut(h, "swt_mcts_traverse")?;
        let parent = slice_out(parent_index, parent_len, "parent_index")?;
        let edge = slice_out(edge, edge_len, "edge")?;
        let is_chance = slice_out(is_chance, is_chance_len, "is_chance")?;
        b.traverse(parent, edge, is_chance)?;
        Ok(())
    })
}

/// Expands the pending leaves and backs their values up (see `Batch::backpropagate`). `discounts`
/// holds n_trees values, or none (`discounts_len` 0, the pointer may be null) for the configured
/// discount everywhere.
///
/// # Safety
/// `h` must be a live handle; each pointer must hold the number of elements given with it.
#[no_mangle]
pub unsafe extern "C" fn swt_mcts_backpropagate(
    h: *mut Batch,
    values: *const f64,
    values_len: usize,
    rewards: *const f64,
    rewards_len: usize,
    discounts: *const f64,
    discounts_len: usize,
    action_priors: *const f64,
    action_priors_len: usize,
    code_priors: *const f64,
    code_priors_len: usize,
    priors_are_logits: i32,
) -> i32 {
    guard(|| {
        // SAFETY: see the function's contract; inputs are only read.
        let b = handle_mut(h, "swt_mcts_backpropagate")?;
        let values = slice_in(values, values_len, "values")?;
        let rewards = slice_in(rewards, rewards_len, "rewards")?;
        let discounts = slice_in(discounts, discounts_len, "discounts")?;
        let ap = slice_in(action_priors, action_priors_len, "action_priors")?;
        let cp = slice_in(code_priors, code_priors_len, "code_priors")?;
        b.backpropagate(values, rewards, discounts, ap, cp, priors_are_logits != 0)?;
        Ok(())
    })
}

/// Visit counts of the root's actions, [n_trees, num_actions].
///
/// # Safety
/// `h` must be a live handle; `out` must hold `len` writable elements.
#[no_mangle]
pub unsafe extern "C" fn swt_mcts_root_visits(h: *mut Batch, out: *mut i32, len: usize) -> i32 {
    guard(|| {
        // SAFETY: see the function's contract.
        let b = handle_mut(h, "swt_mcts_root_visits")?;
        b.root_visits(slice_out(out, len, "out")?)?;
        Ok(())
    })
}

/// Mean value of each root, [n_trees] (the root's own network value counts as one visit).
///
/// # Safety
/// `h` must be a live handle; `out` must hold `len` writable elements.
#[no_mangle]
pub unsafe extern "C" fn swt_mcts_root_values(h: *mut Batch, out: *mut f64, len: usize) -> i32 {
    guard(|| {
        // SAFETY: see the function's contract.
        let b = handle_mut(h, "swt_mcts_root_values")?;
        b.root_values(slice_out(out, len, "out")?)?;
        Ok(())
    })
}

/// Q(root, a) per action, [n_trees, num_actions]; NaN for actions never expanded.
///
/// # Safety
/// `h` must be a live handle; `out` must hold `len` writable elements.
#[no_mangle]
pub unsafe extern "C" fn swt_mcts_root_q(h: *mut Batch, out: *mut f64, len: usize) -> i32 {
    guard(|| {
        // SAFETY: see the function's contract.
        let b = handle_mut(h, "swt_mcts_root_q")?;
        b.root_q(slice_out(out, len, "out")?)?;
        Ok(())
    })
}

/// Visits of each chance code below the root's afterstate for `action`, [n_trees, num_codes].
///
/// # Safety
/// `h` must be a live handle; `out` must hold `len` writable elements.
#[no_mangle]
pub unsafe extern "C" fn swt_mcts_root_chance_visits(h: *mut Batch, action: i32, out: *mut i32, len: usize) -> i32 {
    guard(|| {
        // SAFETY: see the function's contract.
        let b = handle_mut(h, "swt_mcts_root_chance_visits")?;
        if action < 0 {
            return Err(FfiError::invalid(format!("root_chance_visits: action must be >= 0, got {action}")));
        }
        b.root_chance_visits(action as usize, slice_out(out, len, "out")?)?;
        Ok(())
    })
}

/// Policy target, [n_trees, num_actions]: visits^(1/T) normalised (PUCT; T = 0 → one-hot), or
/// softmax(logits + sigma(completed Q)) (Gumbel; T ignored).
///
/// # Safety
/// `h` must be a live handle; `out` must hold `len` writable elements.
#[no_mangle]
pub unsafe extern "C" fn swt_mcts_improved_policy(h: *mut Batch, temperature: f64, out: *mut f64, len: usize) -> i32 {
    guard(|| {
        // SAFETY: see the function's contract.
        let b = handle_mut(h, "swt_mcts_improved_policy")?;
        b.improved_policy(temperature, slice_out(out, len, "out")?)?;
        Ok(())
    })
}

/// The action to play per tree, [n_trees] (sampled with the tree's seeded stream when T > 0).
///
/// # Safety
/// `h` must be a live handle; `out` must hold `len` writable elements.
#[no_mangle]
pub unsafe extern "C" fn swt_mcts_select_action(h: *mut Batch, temperature: f64, out: *mut i32, len: usize) -> i32 {
    guard(|| {
        // SAFETY: see the function's contract.
        let b = handle_mut(h, "swt_mcts_select_action")?;
        b.select_action(temperature, slice_out(out, len, "out")?)?;
        Ok(())
    })
}

/// [active trees, simulations done, state (0 empty, 1 ready, 2 pending), max_trees, num_actions,
/// num_codes, max_simulations] into `out` (len >= 7).
///
/// # Safety
/// `h` must be a live handle; `out` must hold `len` writable elements.
#[no_mangle]
pub unsafe extern "C" fn swt_mcts_info(h: *mut Batch, out: *mut i32, len: usize) -> i32 {
    guard(|| {
        // SAFETY: see the function's contract.
        let b = handle_mut(h, "swt_mcts_info")?;
        let out = slice_out(out, len, "out")?;
        if out.len() < 7 {
            return Err(FfiError::invalid(format!("swt_mcts_info: out needs 7 values, got {}", out.len())));
        }
        let c = &b.cfg;
        let vals = [b.active(), b.simulations(), b.state() as usize, c.max_trees, c.num_actions, c.num_codes, c.max_simulations];
        for (o, v) in out.iter_mut().zip(vals) {
            *o = v as i32;
        }
        Ok(())
    })
}

/// out[i] = h(x[i]) (inverse = 0) or h^-1(x[i]) (inverse = 1). `out` may not alias `x`.
///
/// # Safety
/// `x` and `out` must each hold `n` elements (`out` writable).
#[no_mangle]
pub unsafe extern "C" fn swt_value_transform(x: *const f64, n: usize, inverse: i32, out: *mut f64) -> i32 {
    guard(|| {
        // SAFETY: see the function's contract.
        let x = slice_in(x, n, "x")?;
        let out = slice_out(out, n, "out")?;
        for (i, (&v, o)) in x.iter().zip(out.iter_mut()).enumerate() {
            if v.is_nan() {
                return Err(FfiError::invalid(format!("value_transform: x[{i}] is NaN")));
            }
            *o = if inverse != 0 { h_inv(v) } else { h(v) };
        }
        Ok(())
    })
}

/// Two-hot encodes `n` scalars over the support [lo, hi] with `bins` points into `out` [n, bins];
/// with `apply_h` the scalar is first transformed by h (MuZero's targets).
///
/// # Safety
/// `x` must hold `n` elements, `out` `out_len` writable elements.
#[no_mangle]
pub unsafe extern "C" fn swt_twohot_encode(
    x: *const f64,
    n: usize,
    lo: f64,
    hi: f64,
    bins: usize,
    apply_h: i32,
    out: *mut f64,
    out_len: usize,
) -> i32 {
    guard(|| {
        let s = Support::new(lo, hi, bins)?;
        // SAFETY: see the function's contract.
        let x = slice_in(x, n, "x")?;
        let out = slice_out(out, out_len, "out")?;
        if out.len() != n * bins {
            return Err(FfiError::invalid(format!("twohot_encode: out must hold n x bins = {n} x {bins} values, got {}", out.len())));
        }
        for (i, (&v, row)) in x.iter().zip(out.chunks_exact_mut(bins)).enumerate() {
            if v.is_nan() {
                return Err(FfiError::invalid(format!("twohot_encode: x[{i}] is NaN")));
            }
            s.encode(if apply_h != 0 { h(v) } else { v }, row);
        }
        Ok(())
    })
}

/// Decodes `n` distributions over the support ([n, bins] probabilities) to scalars: the expectation,
/// then h^-1 with `apply_h`.
///
/// # Safety
/// `probs` must hold `probs_len` elements, `out` `n` writable elements.
#[no_mangle]
pub unsafe extern "C" fn swt_twohot_decode(
    probs: *const f64,
    probs_len: usize,
    lo: f64,
    hi: f64,
    bins: usize,
    apply_h: i32,
    out: *mut f64,
    n: usize,
) -> i32 {
    guard(|| {
        let s = Support::new(lo, hi, bins)?;
        // SAFETY: see the function's contract.
        let probs = slice_in(probs, probs_len, "probs")?;
        let out = slice_out(out, n, "out")?;
        if probs.len() != n * bins {
            return Err(FfiError::invalid(format!("twohot_decode: probs must hold n x bins = {n} x {bins} values, got {}", probs.len())));
        }
        for (i, (row, o)) in probs.chunks_exact(bins).zip(out.iter_mut()).enumerate() {
            if let Some(j) = row.iter().position(|p| !(p.is_finite() && *p >= 0.0)) {
                return Err(FfiError::invalid(format!("twohot_decode: probs[{i}][{j}] = {} is not a probability", row[j])));
            }
            let e = s.decode(row).ok_or_else(|| FfiError::invalid(format!("twohot_decode: row {i} has no probability mass")))?;
            *o = if apply_h != 0 { h_inv(e) } else { e };
        }
        Ok(())
    })
}
