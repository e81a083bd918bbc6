//! Batch-level tests: call order, input checks, and thread-count invariance. The known-answer tests
//! on tabular MDPs run through the public TypeScript API (test/mcts.test.ts).

use super::*;

fn cfg(trees: usize, a: usize, c: usize, sims: usize) -> Config {
    Config { max_trees: trees, num_actions: a, num_codes: c, max_simulations: sims, ..Config::default() }
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
        b.backpropagate(&v, &r, &ap, &cp, true).unwrap();
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
    assert!(matches!(b.backpropagate(&z[..2], &z[..2], &z, &z, true), Err(McError::State(_))));
    b.prepare(2, 2, &z, true, &z[..2], &[1, 1, 1, 0], 1.0, &[0.0, 1.0]).unwrap();
    assert!(matches!(b.backpropagate(&z[..2], &z[..2], &z, &z, true), Err(McError::State(m)) if m.contains("traverse before")));
    b.traverse(&mut p, &mut e, &mut ch).unwrap();
    assert!(matches!(b.traverse(&mut p, &mut e, &mut ch), Err(McError::State(m)) if m.contains("twice")));
    b.backpropagate(&z[..2], &z[..2], &z, &z, true).unwrap();
    b.traverse(&mut p, &mut e, &mut ch).unwrap();
    b.backpropagate(&z[..2], &z[..2], &z, &z, true).unwrap();
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
    assert!(err(b.backpropagate(&[0.0, 0.0], &[0.0, 0.0], &[0.0; 6], &cp, false)).contains("code_priors[1][0]"));
    assert!(err(b.backpropagate(&[0.0, f64::NAN], &[0.0, 0.0], &[0.0; 6], &[0.5; 4], false)).contains("values[1]"));
    assert_eq!(b.state(), State::Pending, "a rejected backpropagate keeps the leaves pending");
    b.backpropagate(&[0.0, 0.0], &[0.0, 0.0], &[0.0; 6], &[0.5; 4], false).unwrap();
    assert_eq!(b.simulations(), 1);
}

#[test]
fn config_rejects_bad_fields_by_name() {
    let mut flat = vec![1.0, 2.0, 1.0, 10.0, 0.0, 1.0, 0.99, 1.25, 19652.0, 0.3, 0.25, 0.0, 0.0, 1.0, 16.0, 1.0, 50.0, 0.1, 1.0];
    assert!(Config::from_flat(&flat).is_ok());
    flat[1] = 0.0;
    assert!(Config::from_flat(&flat).unwrap_err().contains("num_actions"));
    flat[1] = 2.0;
    flat[6] = 1.5;
    assert!(Config::from_flat(&flat).unwrap_err().contains("discount"));
    assert!(Config::from_flat(&flat[..5]).unwrap_err().contains("expected 19 values"));
    flat[6] = 0.99;
    flat[0] = 1e6; // a million trees of 11 nodes x 2 edges is fine ...
    assert!(Config::from_flat(&flat).is_ok());
    flat[3] = 1e5; // ... a million trees of 100k simulations is not
    assert!(Config::from_flat(&flat).unwrap_err().contains("too large"));
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
        b.backpropagate(&v, &r, &ap, &cp, true).unwrap();
    }
    assert!(matches!(b.traverse(&mut p, &mut e, &mut ch), Err(McError::State(m)) if m.contains("budget of 12")));
    let mut visits = vec![0; n * a_n];
    b.root_visits(&mut visits).unwrap();
    let mut actions = vec![0; n];
    b.select_action(1.0, &mut actions).unwrap();
    assert_eq!((visits, actions), expect);
}
