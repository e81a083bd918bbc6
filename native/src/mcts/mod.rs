//! Batched MCTS for Stochastic MuZero (Antonoglou et al., ICLR 2022), split the LightZero way: the
//! trees live here, the networks in TypeScript. Per simulation, `traverse` reports for every tree the
//! leaf to expand (its parent's latent index, the action or chance code leading to it, and whether the
//! leaf is an afterstate); TypeScript evaluates all leaves in batched network calls; `backpropagate`
//! creates the leaves and backs the values up.
//!
//! Tree shape: decision node --action--> chance node (afterstate; reward 0, discount 1) --code-->
//! decision node (reward r, discount d). d is the model's per-transition discount (gamma normally,
//! 0 when the transition ends the episode, so the value below a terminal is never bootstrapped), or
//! `Config::discount` when the model gives none. Selection:
//! - decision nodes, `Mode::Puct`: PUCT with pb_c = ln((N + base + 1) / base) + init, the value term
//!   min-max normalised over the tree's Q(s, a) (optional), unvisited children valued at the parent's
//!   mean value (or a constant). Root priors get Dirichlet noise. Ties go to the lowest index.
//! - decision nodes, `Mode::Gumbel`: Gumbel MuZero (see `gumbel.rs`): root by Gumbel-top-k and
//!   sequential halving, interior by the mctx deterministic rule; policy target from completed Q.
//! - chance nodes: `ChanceMode::Deterministic` picks argmax sigma(c) / (N(c) + 1) (the quasi-random
//!   rule of the Stochastic MuZero paper: visit shares track sigma with no sampling noise);
//!   `ChanceMode::Sample` draws c ~ sigma from the tree's PRNG.
//!
//! Reproducibility: tree i draws every random number (Dirichlet/Gumbel noise, chance samples, action
//! sampling) from `Rng::for_stream(seed, tree_id[i])`, with the tree id supplied by the caller, and no
//! tree reads another's state. So a tree's result depends neither on the batch it is in nor on its
//! position there nor on the thread count.

// Index loops over parallel arrays (priors, children, scratch) read more plainly than zipped iterators.
#![allow(clippy::needless_range_loop)]

pub mod gumbel;
pub mod minmax;
pub mod support;
pub mod tree;

use crate::util::par::thread_count;
use crate::util::rng::Rng;
use std::sync::Mutex;
use tree::Tree;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Puct,
    Gumbel,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChanceMode {
    /// Draw a code from sigma with the tree's PRNG.
    Sample,
    /// argmax sigma(c) / (N(c) + 1).
    Deterministic,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fill {
    /// Unvisited children are valued at the parent's mean value.
    ParentMean,
    /// Unvisited children are valued at `Config::fill_value`.
    Constant,
}

/// A batch's configuration. It has no defaults: every field crosses the ABI by name (see
/// `Config::parse`); the defaults live in config/default.yaml only.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub max_trees: usize,
    pub num_actions: usize,
    pub num_codes: usize,
    pub max_simulations: usize,
    pub mode: Mode,
    pub chance: ChanceMode,
    /// Discount of every transition whose model step gives none (see `Batch::backpropagate`).
    pub discount: f64,
    pub pb_c_init: f64,
    pub pb_c_base: f64,
    pub dirichlet_alpha: f64,
    /// Share of Dirichlet noise in the root priors (0 disables the noise).
    pub exploration_fraction: f64,
    pub fill: Fill,
    pub fill_value: f64,
    /// Min-max normalise the PUCT value term over the tree.
    pub normalize: bool,
    pub gumbel_max_considered: usize,
    pub gumbel_scale: f64,
    pub gumbel_c_visit: f64,
    pub gumbel_c_scale: f64,
    pub gumbel_min_q_range: f64,
    /// Worker threads over trees (0 = all cores).
    pub threads: usize,
}

/// The names `Config::parse` requires, each exactly once (the order is free).
pub const CONFIG_FIELDS: [&str; 20] = [
    "max_trees",
    "num_actions",
    "num_codes",
    "max_simulations",
    "mode",
    "chance",
    "discount",
    "pb_c_init",
    "pb_c_base",
    "dirichlet_alpha",
    "exploration_fraction",
    "value_fill",
    "fill_value",
    "normalize",
    "gumbel_max_considered",
    "gumbel_scale",
    "gumbel_c_visit",
    "gumbel_c_scale",
    "gumbel_min_q_range",
    "threads",
];

/// Largest simulation budget and width accepted (memory per tree grows with budget x width).
pub const MAX_SIMULATIONS: usize = 1 << 20;
pub const MAX_WIDTH: usize = 1 << 16;
pub const MAX_TREES: usize = 1 << 20;

fn number(raw: &str, name: &str) -> Result<f64, String> {
    raw.parse::<f64>().map_err(|_| format!("config.{name}: expected a number, got `{raw}`"))
}

fn count(raw: &str, name: &str, min: usize, max: usize) -> Result<usize, String> {
    let v = number(raw, name).map_err(|_| format!("config.{name}: expected an integer in [{min}, {max}], got `{raw}`"))?;
    if !v.is_finite() || v.fract() != 0.0 || v < min as f64 || v > max as f64 {
        return Err(format!("config.{name}: expected an integer in [{min}, {max}], got {v}"));
    }
    Ok(v as usize)
}

fn real(raw: &str, name: &str, lo: f64, hi: f64) -> Result<f64, String> {
    let v = number(raw, name)?;
    if !v.is_finite() || v < lo || v > hi {
        return Err(format!("config.{name}: expected a finite number in [{lo}, {hi}], got {v}"));
    }
    Ok(v)
}

/// The index of `raw` in `options`.
fn choice(raw: &str, name: &str, options: &[&str]) -> Result<usize, String> {
    options
        .iter()
        .position(|o| *o == raw)
        .ok_or_else(|| format!("config.{name}: expected one of {}, got `{raw}`", options.join(", ")))
}

impl Config {
    /// Parses the configuration text that crosses the ABI: `name=value` entries separated by `;`
    /// (blanks around names and values ignored, empty entries skipped), every name of
    /// `CONFIG_FIELDS` exactly once. Numbers are decimal (integers where a count is expected), the
    /// choices are words: mode `puct|gumbel`, chance `sample|deterministic`, value_fill
    /// `parent_mean|constant`, normalize `true|false`. Unknown, missing and repeated names and
    /// out-of-range values are refused with a message naming the field. Parsed once per batch.
    pub fn parse(text: &str) -> Result<Config, String> {
        let mut given: [Option<&str>; CONFIG_FIELDS.len()] = [None; CONFIG_FIELDS.len()];
        for entry in text.split(';').map(str::trim).filter(|e| !e.is_empty()) {
            let (name, value) = entry
                .split_once('=')
                .ok_or_else(|| format!("config: entry `{entry}` is not of the form name=value"))?;
            let (name, value) = (name.trim(), value.trim());
            let k = CONFIG_FIELDS.iter().position(|f| *f == name).ok_or_else(|| {
                format!("config: unknown field `{name}` (the fields are {})", CONFIG_FIELDS.join(", "))
            })?;
            if given[k].is_some() {
                return Err(format!("config.{name}: given more than once"));
            }
            given[k] = Some(value);
        }
        let missing: Vec<&str> = CONFIG_FIELDS.iter().zip(&given).filter(|(_, g)| g.is_none()).map(|(f, _)| *f).collect();
        if !missing.is_empty() {
            return Err(format!("config: missing field(s) {} (every field is required, none has a default)", missing.join(", ")));
        }
        // Every slot is filled (checked above), so the lookup cannot fail.
        let v = |name: &str| given[CONFIG_FIELDS.iter().position(|f| *f == name).unwrap()].unwrap();
        let cfg = Config {
            max_trees: count(v("max_trees"), "max_trees", 1, MAX_TREES)?,
            num_actions: count(v("num_actions"), "num_actions", 1, MAX_WIDTH)?,
            num_codes: count(v("num_codes"), "num_codes", 1, MAX_WIDTH)?,
            max_simulations: count(v("max_simulations"), "max_simulations", 1, MAX_SIMULATIONS)?,
            mode: [Mode::Puct, Mode::Gumbel][choice(v("mode"), "mode", &["puct", "gumbel"])?],
            chance: [ChanceMode::Sample, ChanceMode::Deterministic][choice(v("chance"), "chance", &["sample", "deterministic"])?],
            discount: real(v("discount"), "discount", 0.0, 1.0)?,
            pb_c_init: real(v("pb_c_init"), "pb_c_init", 0.0, f64::MAX)?,
            pb_c_base: real(v("pb_c_base"), "pb_c_base", f64::MIN_POSITIVE, f64::MAX)?,
            dirichlet_alpha: real(v("dirichlet_alpha"), "dirichlet_alpha", f64::MIN_POSITIVE, f64::MAX)?,
            exploration_fraction: real(v("exploration_fraction"), "exploration_fraction", 0.0, 1.0)?,
            fill: [Fill::ParentMean, Fill::Constant][choice(v("value_fill"), "value_fill", &["parent_mean", "constant"])?],
            fill_value: real(v("fill_value"), "fill_value", f64::MIN, f64::MAX)?,
            normalize: choice(v("normalize"), "normalize", &["false", "true"])? == 1,
            gumbel_max_considered: count(v("gumbel_max_considered"), "gumbel_max_considered", 1, MAX_WIDTH)?,
            gumbel_scale: real(v("gumbel_scale"), "gumbel_scale", 0.0, f64::MAX)?,
            gumbel_c_visit: real(v("gumbel_c_visit"), "gumbel_c_visit", 0.0, f64::MAX)?,
            gumbel_c_scale: real(v("gumbel_c_scale"), "gumbel_c_scale", 0.0, f64::MAX)?,
            gumbel_min_q_range: real(v("gumbel_min_q_range"), "gumbel_min_q_range", 0.0, f64::MAX)?,
            threads: count(v("threads"), "threads (0 = all cores)", 0, 4096)?,
        };
        let width = cfg.num_actions.max(cfg.num_codes);
        let per_tree = (cfg.max_simulations + 1).saturating_mul(width);
        // 2^28 edges (12 bytes each) is about 3 GiB: beyond that a batch is surely a mistake.
        if per_tree.saturating_mul(cfg.max_trees) > (1usize << 28) {
            return Err(format!(
                "config: max_trees x (max_simulations + 1) x max(num_actions, num_codes) = {} x {} x {} edges is too large",
                cfg.max_trees,
                cfg.max_simulations + 1,
                width
            ));
        }
        Ok(cfg)
    }
}

/// Why a call was refused: bad input, or a call made out of order.
#[derive(Debug, Clone, PartialEq)]
pub enum McError {
    Invalid(String),
    State(String),
}

fn invalid<T>(msg: String) -> Result<T, McError> {
    Err(McError::Invalid(msg))
}

/// Normalises one row of priors over the entries `legal` admits (0 elsewhere): softmax for logits,
/// renormalisation for probabilities. A row with no mass on any admitted entry (all -inf logits, all
/// zero probabilities) becomes uniform over them. Assumes the row passed `check_priors`.
pub fn normalize_priors(raw: &[f64], legal: impl Fn(usize) -> bool, logits: bool, out: &mut [f64]) {
    let n = raw.len();
    let mut count = 0usize;
    let mut total = 0.0;
    if logits {
        let mut mx = f64::NEG_INFINITY;
        for i in 0..n {
            if legal(i) {
                mx = mx.max(raw[i]);
            }
        }
        for i in 0..n {
            out[i] = if legal(i) && mx > f64::NEG_INFINITY { (raw[i] - mx).exp() } else { 0.0 };
            total += out[i];
            count += legal(i) as usize;
        }
    } else {
        for i in 0..n {
            out[i] = if legal(i) { raw[i] } else { 0.0 };
            total += out[i];
            count += legal(i) as usize;
        }
    }
    if total > 0.0 {
        out.iter_mut().for_each(|v| *v /= total);
    } else {
        for (i, o) in out.iter_mut().enumerate() {
            *o = if legal(i) { 1.0 / count as f64 } else { 0.0 };
        }
    }
}

/// Rejects NaN anywhere, +inf logits, and negative or infinite probabilities.
fn check_priors(row: &[f64], logits: bool, what: impl Fn(usize) -> String) -> Result<(), McError> {
    for (i, &p) in row.iter().enumerate() {
        if p.is_nan() {
            return invalid(format!("{} is NaN", what(i)));
        }
        if logits && p == f64::INFINITY {
            return invalid(format!("{} is +inf (logits may be -inf to exclude an entry, never +inf)", what(i)));
        }
        if !logits && (p < 0.0 || !p.is_finite()) {
            return invalid(format!("{} is {p}; probabilities must be finite and >= 0", what(i)));
        }
    }
    Ok(())
}

fn check_len(name: &str, got: usize, want: usize, shape: &str) -> Result<(), McError> {
    if got != want {
        return invalid(format!("{name}: expected {want} values ({shape}), got {got}"));
    }
    Ok(())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Created, no roots prepared yet.
    Empty = 0,
    /// Roots prepared; the next call is `traverse` (or a read of the results).
    Ready = 1,
    /// `traverse` done; the next call is `backpropagate`.
    Pending = 2,
}

/// Trees per unit of parallel work. Fixed so that the split never depends on the thread count (each
/// tree is independent anyway); large enough that a batch of 64 runs inline without thread spawns,
/// whose cost would exceed the tree work of a simulation.
pub const PAR_CHUNK: usize = 64;

pub struct Batch {
    pub cfg: Config,
    trees: Vec<Tree>,
    /// Gumbel halving schedule for `budget` simulations: row m (m considered actions) at stride
    /// `max_simulations`, its first `budget` entries valid.
    halving: Vec<u32>,
    halving_for: usize,
    budget: usize,
    active: usize,
    sims: usize,
    state: State,
}

/// Runs `f(i, tree_i)` for every tree, over `threads` scoped threads pulling fixed chunks.
fn for_trees<F>(trees: &mut [Tree], threads: usize, f: F)
where
    F: Fn(usize, &mut Tree) + Sync,
{
    let n_chunks = trees.len().div_ceil(PAR_CHUNK);
    let threads = thread_count(threads).min(n_chunks);
    if threads <= 1 {
        for (i, t) in trees.iter_mut().enumerate() {
            f(i, t);
        }
        return;
    }
    let queue = Mutex::new(trees.chunks_mut(PAR_CHUNK).enumerate());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let next = queue.lock().unwrap_or_else(|p| p.into_inner()).next();
                let Some((c, chunk)) = next else { break };
                for (j, t) in chunk.iter_mut().enumerate() {
                    f(c * PAR_CHUNK + j, t);
                }
            });
        }
    });
}

impl Batch {
    pub fn new(cfg: Config) -> Result<Batch, String> {
        let trees = (0..cfg.max_trees).map(|_| Tree::new(&cfg)).collect::<Result<Vec<_>, _>>()?;
        let max_m = cfg.gumbel_max_considered.min(cfg.num_actions);
        let halving = gumbel::considered_visits_table(max_m, cfg.max_simulations);
        let budget = cfg.max_simulations;
        Ok(Batch { cfg, trees, halving, halving_for: budget, budget, active: 0, sims: 0, state: State::Empty })
    }

    pub fn active(&self) -> usize {
        self.active
    }
    pub fn simulations(&self) -> usize {
        self.sims
    }
    pub fn state(&self) -> State {
        self.state
    }
    /// Simulations the current search may run (set by `prepare`).
    pub fn budget(&self) -> usize {
        self.budget
    }

    /// Starts a new search for `n` trees that will run `simulations` simulations (<= max_simulations;
    /// Gumbel's sequential halving plans over exactly this budget): priors [n, A] (logits or
    /// probabilities), root values [n], legal masks [n, A] (nonzero = legal), tree ids [n] (integers
    /// < 2^53) seeding each tree's stream together with `seed`.
    #[allow(clippy::too_many_arguments)]
    pub fn prepare(
        &mut self,
        n: usize,
        simulations: usize,
        priors: &[f64],
        priors_are_logits: bool,
        root_values: &[f64],
        legal: &[u8],
        seed: f64,
        tree_ids: &[f64],
    ) -> Result<(), McError> {
        let a_n = self.cfg.num_actions;
        if n == 0 || n > self.cfg.max_trees {
            return invalid(format!("n_trees: expected 1..={} (the batch's max_trees), got {n}", self.cfg.max_trees));
        }
        if simulations > self.cfg.max_simulations {
            return invalid(format!(
                "simulations: expected 0..={} (the batch's max_simulations), got {simulations}",
                self.cfg.max_simulations
            ));
        }
        check_len("priors", priors.len(), n * a_n, "n_trees x num_actions")?;
        check_len("root_values", root_values.len(), n, "n_trees")?;
        check_len("legal", legal.len(), n * a_n, "n_trees x num_actions")?;
        check_len("tree_ids", tree_ids.len(), n, "n_trees")?;
        const LIMIT: f64 = 9_007_199_254_740_992.0; // 2^53: integers JavaScript numbers hold exactly
        if !(seed.is_finite() && seed.fract() == 0.0 && (0.0..LIMIT).contains(&seed)) {
            return invalid(format!("seed: expected an integer in [0, 2^53), got {seed}"));
        }
        for i in 0..n {
            let id = tree_ids[i];
            if !(id.is_finite() && id.fract() == 0.0 && (0.0..LIMIT).contains(&id)) {
                return invalid(format!("tree_ids[{i}]: expected an integer in [0, 2^53), got {id}"));
            }
            if !root_values[i].is_finite() {
                return invalid(format!("root_values[{i}]: expected a finite number, got {}", root_values[i]));
            }
            let mask = &legal[i * a_n..(i + 1) * a_n];
            if mask.iter().all(|&m| m == 0) {
                return invalid(format!("legal[{i}]: tree {i} has an empty legal mask (no legal action)"));
            }
            check_priors(&priors[i * a_n..(i + 1) * a_n], priors_are_logits, |a| {
                format!("priors[{i}][{a}] (tree {i}, action {a})")
            })?;
        }
        let cfg = &self.cfg;
        let seed = seed as u64;
        for_trees(&mut self.trees[..n], cfg.threads, |i, t| {
            let rng = Rng::for_stream(seed, tree_ids[i] as u64);
            let row = i * a_n..(i + 1) * a_n;
            t.prepare(cfg, &priors[row.clone()], priors_are_logits, &legal[row], root_values[i], rng);
        });
        if self.cfg.mode == Mode::Gumbel && self.halving_for != simulations {
            let stride = self.cfg.max_simulations;
            for (m, row) in self.halving.chunks_exact_mut(stride).enumerate() {
                gumbel::considered_visits(m, simulations, &mut row[..simulations]);
            }
            self.halving_for = simulations;
        }
        self.budget = simulations;
        self.active = n;
        self.sims = 0;
        self.state = State::Ready;
        Ok(())
    }

    /// One selection step in every active tree. Writes, per tree, the parent's node index (= latent
    /// index), the action or code leading to the leaf, and 1 when the leaf is a chance node.
    pub fn traverse(&mut self, parent: &mut [i32], edge: &mut [i32], is_chance: &mut [u8]) -> Result<(), McError> {
        match self.state {
            State::Empty => return Err(McError::State("traverse: no search started (call prepare first)".into())),
            State::Pending => {
                return Err(McError::State(
                    "traverse: the previous traverse has not been backpropagated yet (traverse called twice)".into(),
                ))
            }
            State::Ready => {}
        }
        if self.sims >= self.budget {
            return Err(McError::State(format!(
                "traverse: the simulation budget of {} (given to prepare) is spent; prepare a new search",
                self.budget
            )));
        }
        let n = self.active;
        check_len("parent_index", parent.len(), n, "n_trees")?;
        check_len("edge", edge.len(), n, "n_trees")?;
        check_len("is_chance", is_chance.len(), n, "n_trees")?;
        let (cfg, halving, sim) = (&self.cfg, &self.halving[..], self.sims);
        for_trees(&mut self.trees[..n], cfg.threads, |_, t| t.traverse(cfg, halving, sim));
        for (i, t) in self.trees[..n].iter().enumerate() {
            parent[i] = t.leaf.parent as i32;
            edge[i] = t.leaf.edge as i32;
            is_chance[i] = t.leaf.is_chance as u8;
        }
        self.state = State::Pending;
        Ok(())
    }

    /// Expands the leaves `traverse` reported with their evaluations, in the same tree order:
    /// values [n]; rewards [n] and discounts [n] of the transitions into decision leaves (read for
    /// decision leaves only: an afterstate's edge has reward 0 and discount 1 by definition);
    /// `discounts` may instead be empty, meaning `Config::discount` for every transition; action
    /// priors [n, A] (read for decision leaves) and code priors [n, C] (read for chance leaves), as
    /// logits or probabilities.
    #[allow(clippy::too_many_arguments)]
    pub fn backpropagate(
        &mut self,
        values: &[f64],
        rewards: &[f64],
        discounts: &[f64],
        action_priors: &[f64],
        code_priors: &[f64],
        priors_are_logits: bool,
    ) -> Result<(), McError> {
        match self.state {
            State::Empty => return Err(McError::State("backpropagate: no search started (call prepare first)".into())),
            State::Ready => {
                return Err(McError::State(
                    "backpropagate: no leaves pending (call traverse before backpropagate)".into(),
                ))
            }
            State::Pending => {}
        }
        let (n, a_n, c_n) = (self.active, self.cfg.num_actions, self.cfg.num_codes);
        check_len("values", values.len(), n, "n_trees")?;
        check_len("rewards", rewards.len(), n, "n_trees")?;
        if !(discounts.is_empty() || discounts.len() == n) {
            return invalid(format!(
                "discounts: expected {n} values (n_trees) or none (the configured discount for all), got {}",
                discounts.len()
            ));
        }
        check_len("action_priors", action_priors.len(), n * a_n, "n_trees x num_actions")?;
        check_len("code_priors", code_priors.len(), n * c_n, "n_trees x num_codes")?;
        for (i, t) in self.trees[..n].iter().enumerate() {
            if !values[i].is_finite() {
                return invalid(format!("values[{i}]: expected a finite number, got {}", values[i]));
            }
            if t.leaf.is_chance {
                check_priors(&code_priors[i * c_n..(i + 1) * c_n], priors_are_logits, |c| {
                    format!("code_priors[{i}][{c}] (tree {i}, chance leaf, code {c})")
                })?;
            } else {
                if !rewards[i].is_finite() {
                    return invalid(format!("rewards[{i}]: expected a finite number, got {}", rewards[i]));
                }
                if let Some(&d) = discounts.get(i) {
                    if !(0.0..=1.0).contains(&d) {
                        return invalid(format!("discounts[{i}]: expected a number in [0, 1] (0 ends the episode), got {d}"));
                    }
                }
                check_priors(&action_priors[i * a_n..(i + 1) * a_n], priors_are_logits, |a| {
                    format!("action_priors[{i}][{a}] (tree {i}, decision leaf, action {a})")
                })?;
            }
        }
        let cfg = &self.cfg;
        for_trees(&mut self.trees[..n], cfg.threads, |i, t| {
            let row = if t.leaf.is_chance {
                &code_priors[i * c_n..(i + 1) * c_n]
            } else {
                &action_priors[i * a_n..(i + 1) * a_n]
            };
            let discount = discounts.get(i).copied().unwrap_or(cfg.discount);
            t.backpropagate(values[i], rewards[i], discount, row, priors_are_logits);
        });
        self.sims += 1;
        self.state = State::Ready;
        Ok(())
    }

    fn started(&self, what: &str) -> Result<usize, McError> {
        if self.state == State::Empty {
            return Err(McError::State(format!("{what}: no search started (call prepare first)")));
        }
        Ok(self.active)
    }

    pub fn root_visits(&self, out: &mut [i32]) -> Result<(), McError> {
        let n = self.started("root_visits")?;
        let a_n = self.cfg.num_actions;
        check_len("root_visits out", out.len(), n * a_n, "n_trees x num_actions")?;
        for (t, row) in self.trees[..n].iter().zip(out.chunks_exact_mut(a_n)) {
            t.root_visits(row);
        }
        Ok(())
    }

    pub fn root_values(&self, out: &mut [f64]) -> Result<(), McError> {
        let n = self.started("root_values")?;
        check_len("root_values out", out.len(), n, "n_trees")?;
        for (t, o) in self.trees[..n].iter().zip(out.iter_mut()) {
            *o = t.root_value();
        }
        Ok(())
    }

    pub fn root_q(&self, out: &mut [f64]) -> Result<(), McError> {
        let n = self.started("root_q")?;
        let a_n = self.cfg.num_actions;
        check_len("root_q out", out.len(), n * a_n, "n_trees x num_actions")?;
        for (t, row) in self.trees[..n].iter().zip(out.chunks_exact_mut(a_n)) {
            t.root_q(row);
        }
        Ok(())
    }

    pub fn root_chance_visits(&self, action: usize, out: &mut [i32]) -> Result<(), McError> {
        let n = self.started("root_chance_visits")?;
        let (a_n, c_n) = (self.cfg.num_actions, self.cfg.num_codes);
        if action >= a_n {
            return invalid(format!("root_chance_visits: action must be in [0, {a_n}), got {action}"));
        }
        check_len("root_chance_visits out", out.len(), n * c_n, "n_trees x num_codes")?;
        for (t, row) in self.trees[..n].iter().zip(out.chunks_exact_mut(c_n)) {
            t.root_chance_visits(action, row);
        }
        Ok(())
    }

    fn check_temperature(temperature: f64) -> Result<(), McError> {
        if !(temperature.is_finite() && temperature >= 0.0) {
            return invalid(format!("temperature: expected a finite number >= 0, got {temperature}"));
        }
        Ok(())
    }

    pub fn improved_policy(&mut self, temperature: f64, out: &mut [f64]) -> Result<(), McError> {
        let n = self.started("improved_policy")?;
        Self::check_temperature(temperature)?;
        let a_n = self.cfg.num_actions;
        check_len("improved_policy out", out.len(), n * a_n, "n_trees x num_actions")?;
        let cfg = &self.cfg;
        for (t, row) in self.trees[..n].iter_mut().zip(out.chunks_exact_mut(a_n)) {
            t.improved_policy(cfg, temperature, row);
        }
        Ok(())
    }

    pub fn select_action(&mut self, temperature: f64, out: &mut [i32]) -> Result<(), McError> {
        let n = self.started("select_action")?;
        Self::check_temperature(temperature)?;
        check_len("select_action out", out.len(), n, "n_trees")?;
        let cfg = &self.cfg;
        for (t, o) in self.trees[..n].iter_mut().zip(out.iter_mut()) {
            *o = t.select_action(cfg, temperature) as i32;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
