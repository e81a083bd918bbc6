//! One search tree in struct-of-arrays storage, preallocated for the simulation budget: every
//! simulation adds exactly one node (the leaf `traverse` found), so `budget + 1` nodes and
//! `(budget + 1) * max(A, C)` edges always suffice and nothing is allocated while searching.
//!
//! Node 0 is the root. Node j (j >= 1) is created by simulation j, so a node's index is also the index
//! of its latent in the TypeScript-side latent store (LightZero's "latent index in search path").

use super::gumbel::completed_q_sigma;
use super::minmax::MinMax;
use super::{normalize_priors, ChanceMode, Config, Fill, Mode};
use crate::util::rng::Rng;

pub const DECISION: u8 = 0;
pub const CHANCE: u8 = 1;

/// What `traverse` found: the leaf hangs below `parent` through `edge` (an action when `is_chance`,
/// i.e. the leaf is an afterstate; a chance code otherwise).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Leaf {
    pub parent: u32,
    pub edge: u32,
    pub is_chance: bool,
}

pub struct Tree {
    // Nodes.
    kind: Vec<u8>,
    parent: Vec<u32>,
    visits: Vec<u32>,
    value_sum: Vec<f64>,
    /// Reward on the edge into the node (0 for chance nodes).
    reward: Vec<f64>,
    /// Discount on the edge into the node (1 for chance nodes; the model's, 0 at a terminal, else).
    discount: Vec<f64>,
    /// The network's value at expansion (Gumbel's mixed value needs it).
    raw_value: Vec<f64>,
    edge_base: Vec<u32>,
    // Edges: A per decision node, C per chance node, allocated in creation order.
    prior: Vec<f64>,
    child: Vec<u32>,
    // Root.
    legal: Vec<bool>,
    n_legal: usize,
    gumbel: Vec<f64>,
    // Scratch for per-node vectors (Gumbel), sized max(A, C).
    s_q: Vec<f64>,
    s_sigma: Vec<f64>,
    s_n: Vec<u32>,
    nodes: usize,
    edges: usize,
    minmax: MinMax,
    rng: Rng,
    pub leaf: Leaf,
}

#[inline]
fn argmax_first(n: usize, mut score: impl FnMut(usize) -> Option<f64>) -> Option<usize> {
    // Strictly greater keeps the lowest index on ties: ties are broken deterministically.
    let mut best = f64::NEG_INFINITY;
    let mut arg = None;
    for i in 0..n {
        if let Some(s) = score(i) {
            if arg.is_none() || s > best {
                best = s;
                arg = Some(i);
            }
        }
    }
    arg
}

impl Tree {
    /// Allocates the tree for `cfg`; an allocation the system refuses is an error, not an abort.
    pub fn new(cfg: &Config) -> Result<Self, String> {
        fn filled<T: Clone>(n: usize, v: T) -> Result<Vec<T>, String> {
            let mut out = Vec::new();
            out.try_reserve_exact(n).map_err(|e| format!("cannot allocate a search tree ({n} slots): {e}"))?;
            out.resize(n, v);
            Ok(out)
        }
        let cap = cfg.max_simulations + 1;
        let width = cfg.num_actions.max(cfg.num_codes);
        Ok(Tree {
            kind: filled(cap, DECISION)?,
            parent: filled(cap, 0)?,
            visits: filled(cap, 0)?,
            value_sum: filled(cap, 0.0)?,
            reward: filled(cap, 0.0)?,
            discount: filled(cap, 1.0)?,
            raw_value: filled(cap, 0.0)?,
            edge_base: filled(cap, 0)?,
            prior: filled(cap * width, 0.0)?,
            child: filled(cap * width, 0)?,
            legal: vec![false; cfg.num_actions],
            n_legal: 0,
            gumbel: vec![0.0; cfg.num_actions],
            s_q: vec![0.0; width],
            s_sigma: vec![0.0; width],
            s_n: vec![0; width],
            nodes: 0,
            edges: 0,
            minmax: MinMax::new(),
            rng: Rng::new(0),
            leaf: Leaf::default(),
        })
    }

    #[inline]
    fn mean(&self, node: usize) -> f64 {
        self.value_sum[node] / self.visits[node] as f64
    }

    /// Q of the edge into `node` as seen from its parent: r + discount * V(node).
    #[inline]
    fn q(&self, node: usize) -> f64 {
        self.reward[node] + self.discount[node] * self.mean(node)
    }

    #[inline]
    fn is_legal(&self, node: usize, a: usize) -> bool {
        node != 0 || self.legal[a]
    }

    /// Resets the tree to a root with the given (validated) priors over the legal actions, and draws
    /// the root noise (Dirichlet for PUCT, Gumbel for Gumbel mode) from the tree's own stream.
    pub fn prepare(&mut self, cfg: &Config, raw_priors: &[f64], logits: bool, legal: &[u8], root_value: f64, rng: Rng) {
        let a_n = cfg.num_actions;
        self.rng = rng;
        self.minmax = MinMax::new();
        self.leaf = Leaf::default();
        self.nodes = 1;
        self.edges = a_n;
        self.kind[0] = DECISION;
        self.parent[0] = 0;
        // The root counts its own network value as one visit (MuZero pseudocode, mctx).
        self.visits[0] = 1;
        self.value_sum[0] = root_value;
        self.raw_value[0] = root_value;
        self.reward[0] = 0.0;
        self.discount[0] = 1.0;
        self.edge_base[0] = 0;
        for (l, &m) in self.legal.iter_mut().zip(legal) {
            *l = m != 0;
        }
        self.n_legal = self.legal.iter().filter(|&&l| l).count();
        let legal = &self.legal;
        normalize_priors(raw_priors, |a| legal[a], logits, &mut self.prior[..a_n]);
        self.child[..a_n].fill(0);
        match cfg.mode {
            Mode::Puct => {
                if cfg.exploration_fraction > 0.0 {
                    self.add_dirichlet(cfg);
                }
            }
            Mode::Gumbel => {
                for a in 0..a_n {
                    self.gumbel[a] = if self.legal[a] {
                        let u = loop {
                            let u = self.rng.next_f64();
                            if u > 0.0 {
                                break u;
                            }
                        };
                        -cfg.gumbel_scale * (-u.ln()).ln()
                    } else {
                        0.0
                    };
                }
            }
        }
    }

    fn add_dirichlet(&mut self, cfg: &Config) {
        let a_n = cfg.num_actions;
        let noise = &mut self.s_q[..a_n];
        let mut total = 0.0;
        for a in 0..a_n {
            noise[a] = if self.legal[a] { self.rng.gamma(cfg.dirichlet_alpha) } else { 0.0 };
            total += noise[a];
        }
        let f = cfg.exploration_fraction;
        for a in 0..a_n {
            if !self.legal[a] {
                continue;
            }
            // A tiny alpha can underflow every gamma draw to 0: fall back to uniform noise.
            let n = if total > 0.0 { noise[a] / total } else { 1.0 / self.n_legal as f64 };
            self.prior[a] = (1.0 - f) * self.prior[a] + f * n;
        }
    }

    /// Walks from the root to the first missing child and records it in `self.leaf`.
    /// `sim` is the index of this simulation (0-based), used by the Gumbel root's schedule.
    pub fn traverse(&mut self, cfg: &Config, halving: &[u32], sim: usize) {
        let mut node = 0usize;
        loop {
            let base = self.edge_base[node] as usize;
            let (edge, is_chance) = if self.kind[node] == DECISION {
                let a = match cfg.mode {
                    Mode::Puct => self.select_puct(node, cfg),
                    Mode::Gumbel if node == 0 => self.select_gumbel_root(cfg, halving, sim),
                    Mode::Gumbel => self.select_gumbel_interior(node, cfg),
                };
                (a, true)
            } else {
                (self.select_code(node, cfg), false)
            };
            let c = self.child[base + edge] as usize;
            if c == 0 {
                self.leaf = Leaf { parent: node as u32, edge: edge as u32, is_chance };
                return;
            }
            node = c;
        }
    }

    fn select_puct(&self, node: usize, cfg: &Config) -> usize {
        let base = self.edge_base[node] as usize;
        let n_parent = self.visits[node] as f64;
        let pb_c = ((n_parent + cfg.pb_c_base + 1.0) / cfg.pb_c_base).ln() + cfg.pb_c_init;
        let explore = pb_c * n_parent.sqrt();
        let fill = match cfg.fill {
            Fill::ParentMean => self.mean(node),
            Fill::Constant => cfg.fill_value,
        };
        let fill = if cfg.normalize { self.minmax.normalize(fill) } else { fill };
        argmax_first(cfg.num_actions, |a| {
            if !self.is_legal(node, a) {
                return None;
            }
            let c = self.child[base + a] as usize;
            let (n, v) = if c != 0 {
                let q = self.q(c);
                (self.visits[c] as f64, if cfg.normalize { self.minmax.normalize(q) } else { q })
            } else {
                (0.0, fill)
            };
            Some(explore * self.prior[base + a] / (1.0 + n) + v)
        })
        .expect("a decision node has at least one legal action")
    }

    fn select_code(&mut self, node: usize, cfg: &Config) -> usize {
        let base = self.edge_base[node] as usize;
        let c_n = cfg.num_codes;
        match cfg.chance {
            ChanceMode::Deterministic => argmax_first(c_n, |c| {
                let ch = self.child[base + c] as usize;
                let n = if ch != 0 { self.visits[ch] as f64 } else { 0.0 };
                Some(self.prior[base + c] / (n + 1.0))
            })
            .expect("a chance node has at least one code"),
            ChanceMode::Sample => {
                // Priors are normalised at expansion; the last code with mass absorbs rounding.
                let u = self.rng.next_f64();
                let mut acc = 0.0;
                let mut last = 0;
                for c in 0..c_n {
                    let p = self.prior[base + c];
                    if p > 0.0 {
                        acc += p;
                        last = c;
                        if u < acc {
                            return c;
                        }
                    }
                }
                last
            }
        }
    }

    /// Fills the scratch vectors with per-action Q (child's Q), visits and sigma(completed Q).
    fn gumbel_sigma(&mut self, node: usize, cfg: &Config) {
        let a_n = cfg.num_actions;
        let base = self.edge_base[node] as usize;
        for a in 0..a_n {
            let c = self.child[base + a] as usize;
            if c != 0 {
                self.s_q[a] = self.q(c);
                self.s_n[a] = self.visits[c];
            } else {
                self.s_q[a] = 0.0;
                self.s_n[a] = 0;
            }
        }
        let legal = &self.legal;
        let is_root = node == 0;
        completed_q_sigma(
            self.raw_value[node],
            &self.prior[base..base + a_n],
            &self.s_q[..a_n],
            &self.s_n[..a_n],
            |a| !is_root || legal[a],
            cfg.gumbel_c_visit,
            cfg.gumbel_c_scale,
            cfg.gumbel_min_q_range,
            &mut self.s_sigma[..a_n],
        );
    }

    /// The root's Gumbel score g(a) + logit(a) + sigma(completed Q(a)) (mctx `score_considered`
    /// without the visit penalty; logits = ln prior, floored like mctx's low_logit).
    #[inline]
    fn gumbel_score(&self, a: usize) -> f64 {
        (self.gumbel[a] + self.prior[a].ln() + self.s_sigma[a]).max(-1e9)
    }

    fn select_gumbel_root(&mut self, cfg: &Config, halving: &[u32], sim: usize) -> usize {
        self.gumbel_sigma(0, cfg);
        let m = cfg.gumbel_max_considered.min(self.n_legal);
        let cv = halving[m * cfg.max_simulations + sim];
        let considered = argmax_first(cfg.num_actions, |a| {
            (self.legal[a] && self.s_n[a] == cv).then(|| self.gumbel_score(a))
        });
        // The schedule always leaves a considered action; the fallback only guards the invariant.
        considered
            .or_else(|| argmax_first(cfg.num_actions, |a| self.legal[a].then(|| self.gumbel_score(a))))
            .expect("the root has a legal action")
    }

    fn select_gumbel_interior(&mut self, node: usize, cfg: &Config) -> usize {
        self.gumbel_sigma(node, cfg);
        let a_n = cfg.num_actions;
        let base = self.edge_base[node] as usize;
        // probs = softmax(ln prior + sigma); pick argmax probs - N / (1 + sum N) (mctx interior rule).
        let mut mx = f64::NEG_INFINITY;
        let mut sum_n = 0.0;
        for a in 0..a_n {
            mx = mx.max(self.prior[base + a].ln() + self.s_sigma[a]);
            sum_n += self.s_n[a] as f64;
        }
        let mut z = 0.0;
        for a in 0..a_n {
            let e = (self.prior[base + a].ln() + self.s_sigma[a] - mx).exp();
            self.s_q[a] = e;
            z += e;
        }
        argmax_first(a_n, |a| Some(self.s_q[a] / z - self.s_n[a] as f64 / (1.0 + sum_n)))
            .expect("a decision node has actions")
    }

    /// Creates the pending leaf with the evaluated (validated) priors and backs its value up.
    /// `reward` and `discount` belong to the edge into a decision leaf; a chance leaf ignores them.
    pub fn backpropagate(&mut self, value: f64, reward: f64, discount: f64, raw_priors: &[f64], logits: bool) {
        let Leaf { parent, edge, is_chance } = self.leaf;
        let (parent, edge) = (parent as usize, edge as usize);
        let new = self.nodes;
        self.nodes += 1;
        self.kind[new] = if is_chance { CHANCE } else { DECISION };
        self.parent[new] = parent as u32;
        self.visits[new] = 0;
        self.value_sum[new] = 0.0;
        self.reward[new] = if is_chance { 0.0 } else { reward };
        self.discount[new] = if is_chance { 1.0 } else { discount };
        self.raw_value[new] = value;
        self.edge_base[new] = self.edges as u32;
        let width = raw_priors.len();
        normalize_priors(raw_priors, |_| true, logits, &mut self.prior[self.edges..self.edges + width]);
        self.child[self.edges..self.edges + width].fill(0);
        self.edges += width;
        let pbase = self.edge_base[parent] as usize;
        self.child[pbase + edge] = new as u32;

        let mut g = value;
        let mut node = new;
        loop {
            self.value_sum[node] += g;
            self.visits[node] += 1;
            if node == 0 {
                break;
            }
            // The range is taken over the Qs that PUCT compares: Q(s, a) = V(afterstate).
            if self.kind[node] == CHANCE {
                self.minmax.update(self.q(node));
            }
            g = self.reward[node] + self.discount[node] * g;
            node = self.parent[node] as usize;
        }
    }

    // ---- results ----------------------------------------------------------------------------

    pub fn root_visits(&self, out: &mut [i32]) {
        for (a, o) in out.iter_mut().enumerate() {
            let c = self.child[a] as usize;
            *o = if c != 0 { self.visits[c] as i32 } else { 0 };
        }
    }

    pub fn root_value(&self) -> f64 {
        self.mean(0)
    }

    pub fn root_q(&self, out: &mut [f64]) {
        for (a, o) in out.iter_mut().enumerate() {
            let c = self.child[a] as usize;
            *o = if c != 0 { self.q(c) } else { f64::NAN };
        }
    }

    /// Visits of the codes below the root's afterstate for `action` (all 0 if it was never expanded).
    pub fn root_chance_visits(&self, action: usize, out: &mut [i32]) {
        out.fill(0);
        let c = self.child[action] as usize;
        if c == 0 {
            return;
        }
        let base = self.edge_base[c] as usize;
        for (k, o) in out.iter_mut().enumerate() {
            let d = self.child[base + k] as usize;
            if d != 0 {
                *o = self.visits[d] as i32;
            }
        }
    }

    /// Visit distribution with temperature (PUCT) or softmax(logits + sigma(completed Q)) (Gumbel).
    pub fn improved_policy(&mut self, cfg: &Config, temperature: f64, out: &mut [f64]) {
        let a_n = cfg.num_actions;
        out.fill(0.0);
        if cfg.mode == Mode::Gumbel {
            self.gumbel_sigma(0, cfg);
            let mut mx = f64::NEG_INFINITY;
            for a in 0..a_n {
                if self.legal[a] {
                    mx = mx.max(self.prior[a].ln() + self.s_sigma[a]);
                }
            }
            let mut z = 0.0;
            for a in 0..a_n {
                if self.legal[a] {
                    out[a] = (self.prior[a].ln() + self.s_sigma[a] - mx).exp();
                    z += out[a];
                }
            }
            out.iter_mut().for_each(|v| *v /= z);
            return;
        }
        let mut max_n = 0u32;
        for a in 0..a_n {
            let c = self.child[a] as usize;
            self.s_n[a] = if c != 0 { self.visits[c] } else { 0 };
            max_n = max_n.max(self.s_n[a]);
        }
        if max_n == 0 {
            // No simulation yet: the (noised) prior is the best policy there is.
            out.copy_from_slice(&self.prior[..a_n]);
            if temperature <= 0.0 {
                let best = argmax_first(a_n, |a| self.legal[a].then(|| self.prior[a])).unwrap();
                out.fill(0.0);
                out[best] = 1.0;
            }
            return;
        }
        if temperature <= 0.0 {
            let best = argmax_first(a_n, |a| self.legal[a].then(|| self.s_n[a] as f64)).unwrap();
            out[best] = 1.0;
            return;
        }
        // n^(1/T) normalised, computed relative to the largest count so that small T cannot overflow.
        let ln_max = (max_n as f64).ln();
        let mut z = 0.0;
        for a in 0..a_n {
            if self.s_n[a] > 0 {
                out[a] = (((self.s_n[a] as f64).ln() - ln_max) / temperature).exp();
                z += out[a];
            }
        }
        out.iter_mut().for_each(|v| *v /= z);
    }

    /// The action to play: Gumbel mode returns the sequential-halving winner (the most visited
    /// considered action with the best g + logits + sigma(Q)); PUCT samples the visit distribution
    /// with temperature from the tree's stream (argmax visits, lowest index on ties, at T = 0).
    pub fn select_action(&mut self, cfg: &Config, temperature: f64) -> usize {
        let a_n = cfg.num_actions;
        if cfg.mode == Mode::Gumbel {
            self.gumbel_sigma(0, cfg);
            let max_n = (0..a_n).filter(|&a| self.legal[a]).map(|a| self.s_n[a]).max().unwrap_or(0);
            return argmax_first(a_n, |a| (self.legal[a] && self.s_n[a] == max_n).then(|| self.gumbel_score(a)))
                .expect("the root has a legal action");
        }
        let mut policy = std::mem::take(&mut self.s_sigma);
        self.improved_policy(cfg, temperature, &mut policy[..a_n]);
        let u = if temperature > 0.0 { self.rng.next_f64() } else { 0.0 };
        let mut acc = 0.0;
        let mut chosen = None;
        for a in 0..a_n {
            if policy[a] > 0.0 && self.legal[a] {
                acc += policy[a];
                chosen = Some(a);
                if u < acc {
                    break;
                }
            }
        }
        self.s_sigma = policy;
        chosen.expect("the policy has mass on a legal action")
    }
}
