// Every JSON document swt prints (`--json`) or stores (DuckDB JSON/VARCHAR documents, validation.json)
// uses snake_case keys. The outputs come from real runs of the built CLI on one small synthetic store.
// Keys that are data rather than field names are the only exceptions, listed in KEY_EXCEPTIONS.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, swt, tempDir } from './helpers/paths.js';
import { Store } from '../src/store/db.js';

const SNAKE = /^[a-z0-9]+(_[a-z0-9]+)*$/;

/**
 * Documented exceptions: where a key is data (a name chosen by the user or by a domain), not a field.
 * Each entry says where (a path pattern, `*` for any index or key) and why.
 */
const KEY_EXCEPTIONS: Array<{ where: RegExp; why: string }> = [
  { where: /\.(actions|action_mix)\.(counts|share)\.(HOLD|BUY|SELL|CLOSE)$/, why: 'action names are map keys (metrics action distribution, training action mix)' },
  { where: /\.rejected_by_reason\.[^.]+$/, why: 'rejection reasons (a short sentence each) are map keys of the import and quality reports' },
  { where: /\.config\.instruments\.[A-Z0-9_]+$/, why: 'instrument names (OANDA style, GBP_JPY) are map keys of the instruments config' },
  { where: /\.wst\.(J|Q)$/, why: "J and Q of a feature set's scattering transform, as Kymatio names them (config, stored spec; the spec's hash covers them)" },
  { where: /^\$\.config\.(J|Q|T)$/, why: 'swt wst --json: the Kymatio Scattering1D parameters J, Q and T' },
  { where: /^\$\.S$/, why: 'swt wst --full --json: S, the scattering coefficients as Kymatio names them' },
];

/** Exceptions that some output needed (each one listed must be needed). */
const usedExceptions = new Set<number>();

/** Paths of keys that are not snake_case and not an exception. */
function badKeys(value: unknown, at = '$', out: string[] = []): string[] {
  if (Array.isArray(value)) {
    value.forEach((v, i) => badKeys(v, `${at}[${i}]`, out));
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const p = `${at}.${k}`;
      if (!SNAKE.test(k)) {
        const x = KEY_EXCEPTIONS.findIndex((e) => e.where.test(p));
        if (x < 0) out.push(p);
        else usedExceptions.add(x);
      }
      badKeys(v, p, out);
    }
  }
  return out;
}

const BUILT = existsSync(path.join(ROOT, 'dist', 'workers', 'validate.js'));
const tmp = tempDir('swt-json-keys-');
const db = path.join(tmp.dir, 'store.duckdb');
const INSTRUMENT = 'SYN_GBPJPY';
/** A short synthetic range for `swt main` (its default is years of bars). */
const MAIN_ENV = { SWT_SYNTH__FROM: '2024-01-01', SWT_SYNTH__TO: '2024-02-09', SWT_SYNTH__SEED: '3', SWT_MAIN__TRAIN_PRESET: 'test', SWT_MAIN__TRAIN_MINUTES: '0.1', SWT_MAIN__VALIDATION_SESSIONS: '20' };
const outputs = new Map<string, unknown>();

async function json(name: string, args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}): Promise<unknown> {
  const r = await swt(args, opts);
  expect(r.status, `${name}: ${r.stderr}`).toBe(0);
  const v = JSON.parse(r.stdout) as unknown;
  outputs.set(name, v);
  return v;
}

beforeAll(async () => {
  if (!BUILT) return;
  await json('main', ['main', '--db', db, '--json'], { env: MAIN_ENV, cwd: tmp.dir });
  await json('data synth', ['data', 'synth', '--db', db, '--instrument', 'EUR_USD', '--from', '2024-01-01', '--to', '2024-01-05', '--out', path.join(tmp.dir, 'eu.csv'), '--no-import', '--json']);
  // A file with rejected rows: their reasons are map keys of rejected_by_reason.
  const eu = path.join(tmp.dir, 'eu-bad.csv');
  writeFileSync(eu, 'ts,open,high,low,close,volume\n2024-01-02T10:00:00Z,1.1,1.2,1.0,1.1,5\n2024-01-02T10:01:00Z,1.1,1.0,1.2,1.1,5\nnot a row\n2024-01-02T10:02:00Z,1.1,1.2,1.0,1.15,5\n');
  await json('data import', ['data', 'import', '--db', db, '--instrument', 'EUR_USD', '--format', 'csv', eu, '--json']);
  await json('data check (rejections)', ['data', 'check', '--db', db, '--instrument', 'EUR_USD', '--json']);
  await json('data check', ['data', 'check', '--db', db, '--instrument', INSTRUMENT, '--json']);
  await json('data sessions', ['data', 'sessions', '--db', db, '--instrument', INSTRUMENT, '--json']);
  await json('features build', ['features', 'build', '--db', db, '--instrument', INSTRUMENT, '--json']);
  await json('features show', ['features', 'show', '--db', db, '--instrument', INSTRUMENT, '--rows', '2', '--json']);
  await json('features sets', ['features', 'sets', '--db', db, '--json']);
  await json('config show', ['config', 'show', '--db', db, '--json']);
  const bt = await json('backtest', ['backtest', '--db', db, '--instrument', INSTRUMENT, '--policy', 'mean-reversion', '--json']) as { run: { run_id: string } };
  await json('validate', ['validate', '--db', db, '--run', bt.run.run_id, '--scenarios', 'adverse', '--out', path.join(tmp.dir, 'report'), '--json']);
  // The no-trade form of a validation (nulls, status no_trades, no scenarios).
  await json('validate (no trade)', ['validate', '--db', db, '--instrument', INSTRUMENT, '--policy', 'hold', '--out', path.join(tmp.dir, 'report-hold'), '--json']);
  const space = path.join(tmp.dir, 'space.yaml');
  writeFileSync(space, `policy: mean-reversion\ninstrument: ${INSTRUMENT}\nout_of_sample: { from: "2024-01-22" }\nparams:\n  window: { type: int, min: 30, max: 240, log: true }\n  exit_z: { choices: [0, 0.5] }\ntrials: 4\nstages: [ { sessions: 5 }, { sessions: all } ]\nscoring: { curves: 100, repeats: 1 }\n`);
  await json('sweep', ['sweep', '--db', db, '--space', space, '--out', path.join(tmp.dir, 'sweep'), '--json']);
  await json('walkforward', ['walkforward', '--db', db, '--instrument', INSTRUMENT, '--policy', 'mean-reversion', '--folds', '2', '--param-grid', 'window=60,120', '--json']);
  const gains = path.join(tmp.dir, 'gains.txt');
  writeFileSync(gains, `gain\n${Array.from({ length: 60 }, (_, i) => ((i % 5) - 1.5) * 0.004).join('\n')}\n`);
  await json('mc safe-f', ['mc', 'safe-f', '--trades', gains, '--curves', '100', '--repeats', '1', '--json']);
  await json('mc scenarios', ['mc', 'scenarios', '--trades', gains, '--curves', '100', '--repeats', '1', '--only', 'adverse', '--json']);
  const signals = path.join(tmp.dir, 'signals.json');
  writeFileSync(signals, JSON.stringify({ signals: [Array.from({ length: 256 }, (_, i) => Math.sin(i / 7))] }));
  await json('wst', ['wst', '--J', '4', '--Q', '4,1', '--input', signals, '--full', '--json']);
}, 240_000);
afterAll(() => tmp.cleanup());

describe.skipIf(!BUILT)('JSON keys are snake_case', () => {
  const commands = ['main', 'data synth', 'data import', 'data check', 'data check (rejections)', 'data sessions', 'features build', 'features show', 'features sets', 'config show', 'backtest', 'validate', 'validate (no trade)', 'sweep', 'walkforward', 'mc safe-f', 'mc scenarios', 'wst'];
  for (const name of commands) {
    it(`swt ${name} --json`, () => {
      expect(outputs.has(name), `swt ${name} did not run`).toBe(true);
      expect(badKeys(outputs.get(name))).toEqual([]);
    });
  }

  it('validation.json in the report directory, and sweep.json in the sweep report', () => {
    for (const file of ['report/validation.json', 'report-hold/validation.json', 'sweep/sweep.json', 'sweep/champion/validation.json']) {
      const doc = JSON.parse(readFileSync(path.join(tmp.dir, file), 'utf8')) as unknown;
      expect(badKeys(doc)).toEqual([]);
    }
  });

  it('the JSON documents stored in DuckDB (runs, validations, feature sets)', async () => {
    const store = await Store.open(db);
    try {
      const docs: Array<[string, string]> = [];
      for (const r of await store.all<Record<string, unknown>>('SELECT run_id, params, env, metrics FROM runs')) {
        for (const c of ['params', 'env', 'metrics']) docs.push([`runs.${c} (${String(r.run_id)})`, String(r[c])]);
      }
      for (const r of await store.all<Record<string, unknown>>('SELECT id, params::VARCHAR AS params, result::VARCHAR AS result FROM validations')) {
        for (const c of ['params', 'result']) docs.push([`validations.${c} (#${String(r.id)})`, String(r[c])]);
      }
      for (const r of await store.all<Record<string, unknown>>('SELECT name, spec, columns FROM feature_sets')) {
        for (const c of ['spec', 'columns']) docs.push([`feature_sets.${c} (${String(r.name)})`, String(r[c])]);
      }
      for (const r of await store.all<Record<string, unknown>>('SELECT id, space::VARCHAR AS space FROM sweeps')) docs.push([`sweeps.space (#${String(r.id)})`, String(r.space)]);
      for (const r of await store.all<Record<string, unknown>>('SELECT trial, stage, params::VARCHAR AS params FROM sweep_trials')) docs.push([`sweep_trials.params (${String(r.trial)}/${String(r.stage)})`, String(r.params)]);
      // Not vacuous: one run (the backtest); eleven validations (main's 4 policies on 2 series, validate,
      // the no-trade validate, the sweep's champion); one feature set; one sweep of 4 + 1 evaluations.
      expect(docs.length).toBe(3 * 1 + 2 * 11 + 2 + 1 + 5);
      const bad = docs.flatMap(([where, text]) => badKeys(JSON.parse(text)).map((p) => `${where}: ${p}`));
      expect(bad).toEqual([]);
    } finally {
      store.close();
    }
  });

  it('every documented exception is needed by some output', () => {
    expect(KEY_EXCEPTIONS.filter((_x, i) => !usedExceptions.has(i)).map((x) => x.why)).toEqual([]);
  });

  it('the check itself: a camelCase key fails, a documented exception passes', () => {
    expect(badKeys({ metrics: { netPips: 1, actions: { counts: { HOLD: 1 } } } })).toEqual(['$.metrics.netPips']);
  });
});
