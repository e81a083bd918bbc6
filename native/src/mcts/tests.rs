//! Batch-level tests: call order, input checks, and thread-count invariance. The known-answer tests
//! on tabular MDPs run through the public TypeScript API (test/mcts.test.ts).

use super::*;

/// The fields these tests do not vary, as the configuration text that crosses the ABI.
const REST: &str = "mode=puct; chance=deterministic; discount=0.997; pb_c_init=1.25; pb_c_base=19652; \
    dirichlet_alpha=0.3; exploration_fraction=0.25; value_fill=parent_mean; fill_value=0; normalize=true; \
    gumbel_max_considered=16; gumbel_scale=1; gumbel_c_visit=50; gumbel_c_scale=0.1; gumbel_min_q_range=0; threads=1";

fn text(trees: usize, a: usize, c: usize, sims: usize) -> String {
    format!("max_trees={trees};num_actions={a};num_codes={c};max_simulations={sims};{REST}")
}

fn cfg(trees: usize, a: usize, c: usize, sims: usize) -> Config {
    Config::parse(&text(trees, a, c, sims)).unwrap()
}

/// A cheap evaluator that depends only on (tree id, simulation, leaf), never on batch position.
fn fake_eval(id: u64, sim: usize, parent: i32, edge: i32, salt: u64) -> f64 {
    let mut s = id.wrapping_mul(0x9E37_79B9).wrapping_add(sim as u64 * 7919 + parent as u64 * 31 + edge as u64 + salt);
    crate::util::rng::splitmix64(&mut s) as f64 / u64::MAX as f64 - 0.5
}

/// Runs a full search over the given tree ids and returns (visits, actions).
fn run(config: &Config, ids: &[u64], seed: u64) -> (Vec<i32>, Vec<i32>) {
    let n = ids.len();
    let (a_n, c_n) = (config.num_actions, config.num_codes);
    let mut b = Batch::new(config.clone()).unwrap();
    let priors: Vec<f64> = (0..n * a_n).map(|k| fake_eval(ids[k / a_n], 0, -1, (k % a_n) as i32, 1)).collect();
    let legal: Vec<u8> = (0..n * a_n).map(|k| (ids[k / a_n] as usize + k % a_n) as u8 % 3).map(|m| (m != 0) as u8).collect();
    let roots: Vec<f64> = ids.iter().map(|&i| fake_eval(i, 0, -1, -1, 2)).collect();
    let idf: Vec<f64> = ids.iter().map(|&i| i as f64).collect();
    b.prepare(n, config.max_simulations, &priors, true, &roots, &legal, seed as f64, &idf).unwrap();
    let (mut p, mut e, mut ch) = (vec![0; n], vec![0; n], vec![0u8; n]);
    let (mut v, mut r, mut ap, mut cp) = (vec![0.0; n], vec![0.0; n], vec![0.0; n * a_n], vec![0.0; n * c_n]);
    for sim in 0..config.max_simulations {
        b.traverse(&mut p, &mut e, &mut ch).unwrap();
        for i in 0..n {
            v[i] = fake_eval(ids[i], sim, p[i], e[i], 3);
            r[i] = fake_eval(ids[i], sim, p[i], e[i], 4);
            for a in 0..a_n {
                ap[i * a_n + a] = fake_eval(ids[i], sim, p[i], a as i32, 5);
            }
            for c in 0..c_n {
                cp[i * c_n + c] = fake_eval(ids[i], sim, p[i], c as i32, 6);
            }
        }
        b.backpropagate(&v, &r, &[], &ap, &cp, true).unwrap();
    }
    let mut visits = vec![0; n * a_n];
    b.root_visits(&mut visits).unwrap();
    let mut actions = vec![0; n];
    b.select_action(1.0, &mut actions).unwrap();
    (visits, actions)
}

#[test]
fn results_do_not_depend_on_thread_count_or_batch_composition() {
    for mode in [Mode::Puct, Mode::Gumbel] {
        for chance in [ChanceMode::Sample, ChanceMode::Deterministic] {
            let mut c = cfg(300, 5, 4, 40);
            c.mode = mode;
            c.chance = chance;
            let ids: Vec<u64> = (0..300).map(|i| i * 3 + 1).collect();
            c.threads = 1;
            let one = run(&c, &ids, 9);
            for threads in [2, 3, 7] {
                c.threads = threads;
                assert_eq!(run(&c, &ids, 9), one, "threads {threads} {mode:?} {chance:?}");
            }
            // A subset, in another order, gives the same per-tree results.
            let sub: Vec<u64> = vec![ids[250], ids[3], ids[77]];
            let (v, a) = run(&c, &sub, 9);
            for (k, &pos) in [250usize, 3, 77].iter().enumerate() {
                assert_eq!(&v[k * 5..k * 5 + 5], &one.0[pos * 5..pos * 5 + 5]);
                assert_eq!(a[k], one.1[pos]);
            }
            // Another seed changes the noise, hence (somewhere) the result.
            c.threads = 1;
            assert_ne!(run(&c, &ids, 10), one);
        }
    }
}

#[test]
fn calls_out_of_order_are_state_errors() {
    let mut b = Batch::new(cfg(2, 2, 2, 2)).unwrap();
    let (mut p, mut e, mut ch) = (vec![0; 2], vec![0; 2], vec![0u8; 2]);
    assert!(matches!(b.traverse(&mut p, &mut e, &mut ch), Err(McError::State(m)) if m.contains("prepare first")));
    let z = vec![0.0; 4];
    assert!(matches!(b.backpropagate(&z[..2], &z[..2], &[], &z, &z, true), Err(McError::State(_))));
    b.prepare(2, 2, &z, true, &z[..2], &[1, 1, 1, 0], 1.0, &[0.0, 1.0]).unwrap();
    assert!(matches!(b.backpropagate(&z[..2], &z[..2], &[], &z, &z, true), Err(McError::State(m)) if m.contains("traverse before")));
    b.traverse(&mut p, &mut e, &mut ch).unwrap();
    assert!(matches!(b.traverse(&mut p, &mut e, &mut ch), Err(McError::State(m)) if m.contains("twice")));
    b.backpropagate(&z[..2], &z[..2], &[], &z, &z, true).unwrap();
    b.traverse(&mut p, &mut e, &mut ch).unwrap();
    b.backpropagate(&z[..2], &z[..2], &[], &z, &z, true).unwrap();
    assert!(matches!(b.traverse(&mut p, &mut e, &mut ch), Err(McError::State(m)) if m.contains("budget")));
}

#[test]
fn bad_inputs_are_rejected_before_any_state_changes() {
    let mut b = Batch::new(cfg(2, 3, 2, 4)).unwrap();
    let ok = [0.1, 0.2, 0.3, 0.0, 0.0, 0.0];
    let legal = [1u8, 1, 1, 1, 0, 1];
    let ids = [0.0, 1.0];
    let err = |r: Result<(), McError>| match r {
        Err(McError::Invalid(m)) => m,
        other => panic!("expected an invalid-argument error, got {other:?}"),
    };
    let mut nan = ok;
    nan[4] = f64::NAN;
    assert!(err(b.prepare(2, 2, &nan, true, &[0.0, 0.0], &legal, 1.0, &ids)).contains("priors[1][1]"));
    assert!(err(b.prepare(2, 2, &ok, true, &[0.0, 0.0], &[1, 1, 1, 0, 0, 0], 1.0, &ids)).contains("empty legal mask"));
    assert!(err(b.prepare(2, 2, &ok[..5], true, &[0.0, 0.0], &legal, 1.0, &ids)).contains("expected 6 values"));
    assert!(err(b.prepare(3, 2, &ok, true, &[0.0, 0.0], &legal, 1.0, &ids)).contains("n_trees"));
    assert!(err(b.prepare(2, 2, &[-0.1, 1.0, 0.0, 1.0, 0.0, 0.0], false, &[0.0, 0.0], &legal, 1.0, &ids)).contains(">= 0"));
    assert!(err(b.prepare(2, 2, &ok, true, &[0.0, f64::INFINITY], &legal, 1.0, &ids)).contains("root_values[1]"));
    assert!(err(b.prepare(2, 2, &ok, true, &[0.0, 0.0], &legal, 1.5, &ids)).contains("seed"));
    assert_eq!(b.state(), State::Empty, "a rejected prepare leaves the batch untouched");
    b.prepare(2, 2, &ok, true, &[0.0, 0.0], &legal, 1.0, &ids).unwrap();
    let (mut p, mut e, mut ch) = (vec![0; 2], vec![0; 2], vec![0u8; 2]);
    b.traverse(&mut p, &mut e, &mut ch).unwrap();
    assert_eq!(ch, vec![1, 1], "the first leaf below a root is an afterstate");
    let cp = [0.5, 0.5, f64::NAN, 0.5];
    assert!(err(b.backpropagate(&[0.0, 0.0], &[0.0, 0.0], &[], &[0.0; 6], &cp, false)).contains("code_priors[1][0]"));
    assert!(err(b.backpropagate(&[0.0, f64::NAN], &[0.0, 0.0], &[], &[0.0; 6], &[0.5; 4], false)).contains("values[1]"));
    assert_eq!(b.state(), State::Pending, "a rejected backpropagate keeps the leaves pending");
    b.backpropagate(&[0.0, 0.0], &[0.0, 0.0], &[], &[0.0; 6], &[0.5; 4], false).unwrap();
    assert_eq!(b.simulations(), 1);
}

#[test]
fn config_crosses_by_name_and_refuses_unknown_missing_repeated_and_out_of_range_fields() {
    let good = text(1, 2, 1, 10);
    let c = Config::parse(&good).unwrap();
    assert_eq!((c.max_trees, c.num_actions, c.num_codes, c.max_simulations), (1, 2, 1, 10));
    assert_eq!((c.mode, c.chance, c.fill, c.normalize), (Mode::Puct, ChanceMode::Deterministic, Fill::ParentMean, true));
    assert_eq!((c.discount, c.gumbel_c_scale), (0.997, 0.1));
    // The order of the entries is free.
    let reversed: Vec<&str> = good.split(';').rev().collect();
    assert_eq!(Config::parse(&reversed.join(";")).unwrap(), c);
    let err = |t: &str| Config::parse(t).unwrap_err();
    assert!(err(&format!("{good};simulations=5")).contains("unknown field `simulations`"));
    assert!(err(&format!("{good};discount=0.9")).contains("config.discount: given more than once"));
    let without = |name: &str| good.split(';').filter(|e| !e.trim().starts_with(&format!("{name}="))).collect::<Vec<_>>().join(";");
    assert!(err(&without("discount")).contains("missing field(s) discount "));
    assert!(err(&without("mode")).contains("missing field(s) mode "));
    assert!(err("").contains("missing field(s) max_trees, num_actions, num_codes, max_simulations, mode,"));
    assert!(err(&format!("{good};threads")).contains("entry `threads` is not of the form name=value"));
    let with = |name: &str, value: &str| format!("{};{name}={value}", without(name));
    assert!(err(&with("num_actions", "0")).contains("config.num_actions: expected an integer in [1, 65536], got 0"));
    assert!(err(&with("max_simulations", "1.5")).contains("config.max_simulations"));
    assert!(err(&with("discount", "1.5")).contains("config.discount: expected a finite number in [0, 1], got 1.5"));
    assert!(err(&with("discount", "NaN")).contains("config.discount"));
    assert!(err(&with("fill_value", "abc")).contains("config.fill_value: expected a number, got `abc`"));
    assert!(err(&with("mode", "alphazero")).contains("config.mode: expected one of puct, gumbel, got `alphazero`"));
    assert!(err(&with("normalize", "1")).contains("config.normalize: expected one of false, true"));
    assert_eq!(Config::parse(&with("mode", "gumbel")).unwrap().mode, Mode::Gumbel);
    // A million trees of 11 nodes x 2 edges is fine; a million trees of 100k simulations is not.
    assert!(Config::parse(&text(1_000_000, 2, 1, 10)).is_ok());
    assert!(err(&text(1_000_000, 2, 1, 100_000)).contains("too large"));
}

#[test]
fn priors_normalise_over_legal_entries() {
    let mut out = [0.0; 3];
    normalize_priors(&[0.0, f64::NEG_INFINITY, 0.0], |_| true, true, &mut out);
    assert_eq!(out, [0.5, 0.0, 0.5]);
    normalize_priors(&[2.0, 1.0, 1.0], |a| a != 0, false, &mut out);
    assert_eq!(out, [0.0, 0.5, 0.5]);
    normalize_priors(&[1.0, 0.0, 0.0], |a| a != 0, false, &mut out);
    assert_eq!(out, [0.0, 0.5, 0.5], "no mass on legal entries: uniform over them");
}

#[test]
fn a_search_plans_for_the_budget_given_to_prepare() {
    // A Gumbel search of 12 simulations in a batch sized for 40 behaves exactly like one in a batch
    // sized for 12: the halving schedule follows the search's own budget.
    let mut small = cfg(20, 5, 3, 12);
    small.mode = Mode::Gumbel;
    let ids: Vec<u64> = (0..20).collect();
    let expect = run(&small, &ids, 5);
    let mut big = small.clone();
    big.max_simulations = 40;
    let mut b = Batch::new(big).unwrap();
    let (a_n, c_n) = (5, 3);
    let z = vec![0.0; 20 * a_n];
    let legal = vec![1u8; 20 * a_n];
    assert!(matches!(
        b.prepare(20, 41, &z, true, &z[..20], &legal, 1.0, &[0.0; 20]),
        Err(McError::Invalid(m)) if m.contains("simulations")
    ));
    // Same inputs as `run`, budget 12.
    let n = 20;
    let priors: Vec<f64> = (0..n * a_n).map(|k| fake_eval(ids[k / a_n], 0, -1, (k % a_n) as i32, 1)).collect();
    let legal: Vec<u8> = (0..n * a_n).map(|k| (ids[k / a_n] as usize + k % a_n) as u8 % 3).map(|m| (m != 0) as u8).collect();
    let roots: Vec<f64> = ids.iter().map(|&i| fake_eval(i, 0, -1, -1, 2)).collect();
    let idf: Vec<f64> = ids.iter().map(|&i| i as f64).collect();
    b.prepare(n, 12, &priors, true, &roots, &legal, 5.0, &idf).unwrap();
    let (mut p, mut e, mut ch) = (vec![0; n], vec![0; n], vec![0u8; n]);
    let (mut v, mut r, mut ap, mut cp) = (vec![0.0; n], vec![0.0; n], vec![0.0; n * a_n], vec![0.0; n * c_n]);
    for sim in 0..12 {
        b.traverse(&mut p, &mut e, &mut ch).unwrap();
        for i in 0..n {
            v[i] = fake_eval(ids[i], sim, p[i], e[i], 3);
            r[i] = fake_eval(ids[i], sim, p[i], e[i], 4);
            for a in 0..a_n {
                ap[i * a_n + a] = fake_eval(ids[i], sim, p[i], a as i32, 5);
            }
            for c in 0..c_n {
                cp[i * c_n + c] = fake_eval(ids[i], sim, p[i], c as i32, 6);
            }
        }
        b.backpropagate(&v, &r, &[], &ap, &cp, true).unwrap();
    }
    assert!(matches!(b.traverse(&mut p, &mut e, &mut ch), Err(McError::State(m)) if m.contains("budget of 12")));
    let mut visits = vec![0; n * a_n];
    b.root_visits(&mut visits).unwrap();
    let mut actions = vec![0; n];
    b.select_action(1.0, &mut actions).unwrap();
    assert_eq!((visits, actions), expect);
}

/// An episode that ends inside the tree. States: 0 (root), 1, and the terminal 2; one chance code.
///   root action 0: reward 1 into the terminal                        -> Q = 1
///   root action 1: reward 0 into state 1 (discount 0.9); there any action gives reward 2 into the
///                  terminal                                          -> Q = 0.9 * 2 = 1.8
/// The model values every afterstate and state exactly, except the terminal and whatever lies past
/// it, which it values at 100 (a network is never trained past the end of an episode). With the
/// model's per-transition discount (0 into the terminal) nothing past the end is bootstrapped, so the
/// Qs are exact from the first visit; with the global discount they are not.
struct Ending {
    /// latent (state or afterstate id) of node j of each tree, in creation order
    latents: Vec<Vec<usize>>,
}

const TERMINAL: usize = 2;

impl Ending {
    fn afterstate(s: usize, a: usize) -> usize {
        s * 2 + a
    }
    fn afterstate_value(x: usize) -> f64 {
        match x {
            0 => 1.0,
            1 => 1.8,
            2 | 3 => 2.0,
            _ => 100.0,
        }
    }
    /// (next state, reward, discount) when the code is drawn at afterstate x.
    fn outcome(x: usize) -> (usize, f64, f64) {
        match x {
            0 => (TERMINAL, 1.0, 0.0),
            1 => (1, 0.0, 0.9),
            2 | 3 => (TERMINAL, 2.0, 0.0),
            _ => (TERMINAL, 0.0, 0.9),
        }
    }
    fn value(s: usize) -> f64 {
        [0.0, 2.0, 100.0][s]
    }

    /// Runs `sims` simulations in `n` trees; `with_discounts` passes the model's discounts.
    fn search(mode: Mode, n: usize, sims: usize, with_discounts: bool) -> Batch {
        let mut c = cfg(n, 2, 1, sims);
        c.mode = mode;
        c.discount = 0.9;
        c.exploration_fraction = 0.0;
        let mut b = Batch::new(c).unwrap();
        let ids: Vec<f64> = (0..n).map(|i| i as f64).collect();
        b.prepare(n, sims, &vec![0.5; 2 * n], false, &vec![Self::value(0); n], &vec![1; 2 * n], 3.0, &ids).unwrap();
        let mut m = Ending { latents: vec![vec![0]; n] };
        let (mut p, mut e, mut ch) = (vec![0; n], vec![0; n], vec![0u8; n]);
        let (mut v, mut r, mut d) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        let (ap, cp) = (vec![0.5; 2 * n], vec![1.0; n]);
        for _ in 0..sims {
            b.traverse(&mut p, &mut e, &mut ch).unwrap();
            for i in 0..n {
                let parent = m.latents[i][p[i] as usize];
                let latent = if ch[i] == 1 {
                    let x = Self::afterstate(parent, e[i] as usize);
                    v[i] = Self::afterstate_value(x);
                    x
                } else {
                    let (next, reward, discount) = Self::outcome(parent);
                    (v[i], r[i], d[i]) = (Self::value(next), reward, discount);
                    next
                };
                m.latents[i].push(latent);
            }
            b.backpropagate(&v, &r, if with_discounts { &d } else { &[] }, &ap, &cp, false).unwrap();
        }
        b
    }
}

#[test]
fn a_terminal_inside_the_tree_is_not_bootstrapped() {
    for mode in [Mode::Puct, Mode::Gumbel] {
        let (n, sims) = (3, 60);
        let mut b = Ending::search(mode, n, sims, true);
        let (mut q, mut visits, mut root, mut act) = (vec![0.0; 2 * n], vec![0; 2 * n], vec![0.0; n], vec![0; n]);
        b.root_q(&mut q).unwrap();
        b.root_visits(&mut visits).unwrap();
        b.root_values(&mut root).unwrap();
        b.select_action(0.0, &mut act).unwrap();
        for i in 0..n {
            assert_eq!(q[2 * i], 1.0, "{mode:?}: Q(root, 0) is its reward alone");
            assert!((q[2 * i + 1] - 1.8).abs() < 1e-12, "{mode:?}: Q(root, 1) = {}", q[2 * i + 1]);
            let (n0, n1) = (visits[2 * i] as f64, visits[2 * i + 1] as f64);
            assert_eq!(n0 + n1, sims as f64);
            // The root's mean: its own value (0) plus every backed-up return, each exact.
            assert!((root[i] - (n0 * 1.0 + n1 * 1.8) / (1.0 + n0 + n1)).abs() < 1e-12, "{mode:?}");
            assert_eq!(act[i], 1, "{mode:?}: the longer path pays more");
            if mode == Mode::Puct {
                // (Gumbel's sequential halving over two actions visits both equally.)
                assert!(n1 > n0, "visits follow the better action");
            }
        }
        // Under the global discount the terminal's value (100) leaks into Q(root, 0).
        let b = Ending::search(mode, n, sims, false);
        b.root_q(&mut q).unwrap();
        assert!(q[0] > 10.0, "{mode:?}: without the model's discounts Q(root, 0) = {}", q[0]);
    }
}

#[test]
fn discounts_are_checked_for_decision_leaves() {
    // One action: the second simulation must go below the first afterstate.
    let mut b = Batch::new(cfg(2, 1, 1, 4)).unwrap();
    b.prepare(2, 4, &[0.0; 2], true, &[0.0; 2], &[1; 2], 1.0, &[0.0, 1.0]).unwrap();
    let (mut p, mut e, mut ch) = (vec![0; 2], vec![0; 2], vec![0u8; 2]);
    let z = [0.0; 2];
    let err = |r: Result<(), McError>| match r {
        Err(McError::Invalid(m)) => m,
        other => panic!("expected an invalid-argument error, got {other:?}"),
    };
    b.traverse(&mut p, &mut e, &mut ch).unwrap();
    assert_eq!(ch, vec![1, 1]);
    assert!(err(b.backpropagate(&z[..2], &z[..2], &[1.0], &z, &z, true)).contains("discounts: expected 2 values (n_trees) or none"));
    // Chance leaves take no discount from the model: any value is ignored there.
    b.backpropagate(&z[..2], &z[..2], &[7.0, -1.0], &z, &z, true).unwrap();
    b.traverse(&mut p, &mut e, &mut ch).unwrap();
    assert_eq!(ch, vec![0, 0], "below a fresh afterstate the leaf is a decision node");
    assert!(err(b.backpropagate(&z[..2], &z[..2], &[0.5, 1.5], &z, &z, true)).contains("discounts[1]: expected a number in [0, 1]"));
    assert!(err(b.backpropagate(&z[..2], &z[..2], &[f64::NAN, 0.5], &z, &z, true)).contains("discounts[0]"));
    assert_eq!(b.state(), State::Pending);
    b.backpropagate(&z[..2], &z[..2], &[0.0, 1.0], &z, &z, true).unwrap();
}
