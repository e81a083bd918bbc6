// `swt validate` on a baseline backtest of the real 2016 GBP/JPY data: the report's HTML and PDF both
// exist and carry every chart, the result lands in `validations`, an existing report directory is not
// overwritten without --force, and bad inputs exit 2 with a clear message.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync, statSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { HAS_SHARED, SHARED, swt, tempDir } from './helpers/paths.js';
import { pdfPageCount, pdfTextRuns } from './helpers/pdf.js';
import { Store } from '../src/store/db.js';
import { REPORT_CHARTS } from '../src/validation/report/index.js';

const tmp = tempDir('swt-validate-');
const db = path.join(tmp.dir, 'real.duckdb');
const out = path.join(tmp.dir, 'report');

beforeAll(async () => {
  if (!HAS_SHARED) return;
  const imp = await swt(['data', 'import', path.join(SHARED, 'data', 'GBPJPY_M1_20160422_20160624.csv.gz'), '--format', 'csv', '--instrument', 'GBP_JPY', '--db', db]);
  expect(imp.status, imp.stderr).toBe(0);
  const ses = await swt(['data', 'sessions', '--instrument', 'GBP_JPY', '--db', db]);
  expect(ses.status, ses.stderr).toBe(0);
}, 120_000);
afterAll(() => tmp.cleanup());

/** Chart titles and legend labels the PDF must show (one per chart at least). */
const PDF_CHART_TEXT = [
  'Backtest equity: cumulative net pips by trade',
  'Equity fan: 1000 curves of',
  '5-95% band',
  'median',
  'best curve',
  'worst curve',
  'Max drawdown per curve',
  'p95 = ',
  'CAR per curve',
  'p25 (CAR25) = ',
  'CAR by scenario',
  'Max drawdown by scenario',
  'Decisions by action',
];

describe.skipIf(!HAS_SHARED)('swt validate on the real 2016 data', () => {
  let json: { validations: Array<{ id: number; key: string; report: { dir: string; html: string; pdf: string; pages: number }; result: Record<string, any> }> };

  it('backtests the baseline, validates it and writes the HTML and PDF report', async () => {
    const r = await swt(['validate', '--db', db, '--policy', 'mean-reversion', '--walk-forward', '--out', out, '--json']);
    expect(r.status, r.stderr).toBe(0);
    json = JSON.parse(r.stdout);
    expect(json.validations).toHaveLength(1);
    const v = json.validations[0];
    expect(v.result.policy).toEqual({ name: 'mean-reversion', params: { window: 60, entry_z: 2, exit_z: 0.5 } });
    expect(v.result.provenance.instrument).toBe('GBP_JPY');
    expect(v.result.provenance.data_first).toBe('2016-04-22T16:53:00Z');
    expect(v.result.provenance.config_hash).toMatch(/^[0-9a-f]{16}$/);
    expect(v.result.metrics.trades).toBeGreaterThan(100);
    expect(v.result.scenarios).toHaveLength(6);
    expect(v.result.walkforward.fold_results).toHaveLength(5);
    // The baseline loses after costs on this data: rejected, with its failed gates listed.
    expect(v.result.grade.recommendation).toBe('REJECT');
    expect(v.result.grade.failed_gates.length).toBeGreaterThan(0);
    for (const f of ['index.html', 'report.pdf', 'validation.json']) expect(existsSync(path.join(out, f))).toBe(true);
    expect(v.report.dir).toBe(out);
  });

  it('the HTML is self-contained and holds every chart as an SVG with data-chart, and the walk-forward table', () => {
    const html = readFileSync(path.join(out, 'index.html'), 'utf8');
    expect(html).not.toMatch(/<script|<link |src="http|href="http/);
    for (const id of REPORT_CHARTS) {
      const m = html.match(new RegExp(`<svg[^>]*data-chart="${id}"[^>]*>([\\s\\S]*?)</svg>`));
      expect(m, `chart ${id}`).not.toBeNull();
      // Each chart is drawn: axes/lines and marks, not an empty frame.
      expect((m![1].match(/<(line|polyline|rect|polygon)\b/g) ?? []).length, `chart ${id}`).toBeGreaterThan(8);
    }
    const fan = html.match(/<svg[^>]*data-chart="fan"[^>]*>([\s\S]*?)<\/svg>/)![1];
    expect(fan).toMatch(/<polygon /); // the 5-95% band
    expect((fan.match(/<polyline /g) ?? []).length).toBe(3); // median, best, worst
    for (const label of ['5-95% band', 'median', 'best curve', 'worst curve']) expect(fan).toContain(`>${label}</text>`);
    const boxes = html.match(/<svg[^>]*data-chart="scenario-dd"[^>]*>([\s\S]*?)<\/svg>/)![1];
    for (const s of ['original', 'drop', 'adverse', 'early']) expect(boxes).toContain(`>${s}</text>`);
    for (const t of ['gates', 'score', 'metrics', 'scenarios', 'walkforward', 'provenance']) expect(html).toContain(`data-table="${t}"`);
    expect(html).toContain(`class="rec rec-REJECT"`);
  });

  it('the PDF has the same content: five pages, every chart, the grade, walk-forward and provenance', () => {
    const pdf = path.join(out, 'report.pdf');
    expect(readFileSync(pdf).subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdfPageCount(pdf)).toBe(5);
    expect(json.validations[0].report.pages).toBe(5);
    const text = pdfTextRuns(pdf).join('\n');
    for (const t of PDF_CHART_TEXT) expect(text, t).toContain(t);
    for (const t of ['REJECT', 'Gates', 'Composite score', 'Backtest metrics', 'Stress scenarios', 'Walk-forward', 'Action distribution', 'Provenance', 'Config hash']) expect(text, t).toContain(t);
    expect(text).toContain(json.validations[0].result.provenance.config_hash);
  });

  it('saves the validation in the store', async () => {
    const store = await Store.open(db);
    try {
      const rows = await store.all<{ id: number; policy: string; grade: string; recommendation: string; score: number; report_dir: string; result: string; config_hash: string; run_id: string | null }>(
        'SELECT id, policy, grade, recommendation, score, report_dir, CAST(result AS VARCHAR) AS result, config_hash, run_id FROM validations',
      );
      expect(rows).toHaveLength(1);
      const v = json.validations[0];
      expect(rows[0].id).toBe(v.id);
      expect(rows[0].policy).toBe('mean-reversion');
      expect(rows[0].grade).toBe(v.result.grade.letter);
      expect(rows[0].recommendation).toBe('REJECT');
      expect(rows[0].score).toBeCloseTo(v.result.grade.score, 9);
      expect(rows[0].report_dir).toBe(out);
      expect(rows[0].run_id).toBeNull();
      expect(JSON.parse(rows[0].result).schema).toBe('swt.validation/3');
    } finally {
      store.close();
    }
  });

  it('refuses to overwrite an existing report directory without --force', async () => {
    writeFileSync(path.join(out, 'notes.txt'), 'mine');
    const before = statSync(path.join(out, 'report.pdf')).mtimeMs;
    const r = await swt(['validate', '--db', db, '--policy', 'mean-reversion', '--out', out]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/report directory .* already exists: choose another --out or pass --force/);
    expect(statSync(path.join(out, 'report.pdf')).mtimeMs).toBe(before);
    const f = await swt(['validate', '--db', db, '--policy', 'ma-crossover', '--out', out, '--force', '--scenarios', 'none']);
    expect(f.status, f.stderr).toBe(0);
    expect(f.stdout).toMatch(/ma-crossover \(fast=10, slow=50\): grade [A-F+]+ \(score [\d.]+\) → (DEPLOY|TEST|IMPROVE|REJECT)/);
    expect(readFileSync(path.join(out, 'index.html'), 'utf8')).toContain('Validation: ma-crossover');
    expect(readFileSync(path.join(out, 'notes.txt'), 'utf8')).toBe('mine'); // --force replaces only the report files
  });

  it('grades a policy that never trades REJECT (exit 0), saying why, instead of refusing it', async () => {
    const r = await swt(['validate', '--db', db, '--policy', 'hold', '--no-report']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^hold: grade F \(score 0\.0\) → REJECT: no trade closed over \d+ sessions: nothing to size, nothing to deploy\n/);
    expect(r.stdout).toContain('  trades 0, net 0.0 pips, win rate -, profit factor -; Monte Carlo not run: no trade closed\n');
    expect(r.stdout).toContain('  failed: Trades: no trade closed: no sample at all\n');
  });

  it.each<[string, string[], RegExp]>([
    ['an unknown policy', ['--policy', 'nope'], /unknown policy 'nope' \(known: /],
    ['a non-numeric parameter', ['--policy', 'mean-reversion', '--param', 'window=abc'], /parameter window=abc is not a number/],
    ['--param with several policies', ['--policy', 'hold', '--policy', 'random', '--param', 'p_open=0.1'], /--param applies to a single --policy/],
    ['an unknown scenario', ['--policy', 'random', '--scenarios', 'adverse,typo'], /unknown scenario "typo"/],
    ['an unknown instrument', ['--policy', 'random', '--instrument', 'EUR_USD'], /no bars for EUR_USD/],
  ])('exits 2 on %s', async (_what, args, msg) => {
    const r = await swt(['validate', '--db', db, '--no-report', ...args]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(msg);
    expect(r.stdout).toBe('');
  });

  it('exits 2 on a drawdown tolerance outside (0, 1) or a forecast of 0 years in the config', async () => {
    const tol = await swt(['validate', '--db', db, '--no-report', '--policy', 'random'], { env: { SWT_MONTECARLO__DD_TOLERANCE: '1.5' } });
    expect(tol.status).toBe(2);
    expect(tol.stderr).toMatch(/montecarlo\.dd_tolerance/);
    const fc = await swt(['validate', '--db', db, '--no-report', '--policy', 'random'], { env: { SWT_VALIDATION__FORECAST_YEARS: '0' } });
    expect(fc.status).toBe(2);
    expect(fc.stderr).toMatch(/validation\.forecast_years/);
  });
});

describe.skipIf(!HAS_SHARED)('swt validate --run: a stored backtest run', () => {
  it('validates the run it names (its policy, parameters, sessions and seed), with the run id in the provenance', async () => {
    const bt = await swt(['backtest', '--db', db, '--policy', 'mean-reversion', '--param', 'window=90', '--instrument', 'GBP_JPY', '--sessions', '40', '--seed', '4', '--json']);
    expect(bt.status, bt.stderr).toBe(0);
    const run = JSON.parse(bt.stdout).run;
    const r = await swt(['validate', '--db', db, '--run', run.run_id, '--no-report', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const v = JSON.parse(r.stdout).validations[0].result;
    expect(v.provenance.run_id).toBe(run.run_id);
    expect(v.policy).toEqual({ name: 'mean-reversion', params: run.params });
    expect(v.metrics.trades).toBe(run.metrics.trades);
    expect(v.metrics.net_pips).toBe(run.metrics.net_pips);
    expect(v.provenance.sessions_run).toBe(40);
  });

  it('validates several runs in one call, in parallel, each with its own sessions and seed', async () => {
    // one after the other: the backtests write to the same store
    const ids: { run_id: string; metrics: { trades: number } }[] = [];
    for (const seed of [5, 6]) {
      const bt = await swt(['backtest', '--db', db, '--policy', 'random', '--param', 'p_open=0.05', '--instrument', 'GBP_JPY', '--sessions', '30', '--seed', String(seed), '--json']);
      expect(bt.status, bt.stderr).toBe(0);
      ids.push(JSON.parse(bt.stdout).run);
    }
    const r = await swt(['validate', '--db', db, '--run', ids[0].run_id, '--run', ids[1].run_id, '--workers', '2', '--no-report', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const vs = JSON.parse(r.stdout).validations;
    expect(vs.map((v: { key: string }) => v.key)).toEqual([ids[0].run_id, ids[1].run_id]);
    vs.forEach((v: { result: { provenance: { run_id: string; seed: number }; metrics: { trades: number } } }, i: number) => {
      expect(v.result.provenance.run_id).toBe(ids[i].run_id);
      expect(v.result.provenance.seed).toBe(5 + i);
      expect(v.result.metrics.trades).toBe(ids[i].metrics.trades);
    });
  });

  it('refuses an unknown run, and market options beside --run', async () => {
    const r = await swt(['validate', '--db', db, '--run', 'bt-nope']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no stored run "bt-nope"/);
    const r2 = await swt(['validate', '--db', db, '--run', 'bt-nope', '--policy', 'hold']);
    expect(r2.status).toBe(2);
    expect(r2.stderr).toMatch(/--run takes its policy, parameters, instrument, range, fit range, sessions and seed from the stored run/);
  });
});
