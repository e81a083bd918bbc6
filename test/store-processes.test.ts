// Several swt processes, one store file, as a user would have them in several terminals: a command
// waits for a process that holds the file for at most store.lock_wait_ms and then fails naming it
// (command, PID, since when); a long feature build gives the file back between its chunks, so
// `swt data check`, `swt backtest` and `swt validate` started beside it all get their turn.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { holderFile } from '../src/store/holder.js';
import { swt, tempDir } from './helpers/paths.js';
import { spawnHolder, spawnNode, spawnSwt, type Running } from './helpers/processes.js';

const t = tempDir('swt-procs-');
const db = path.join(t.dir, 'shared.duckdb');
const INSTRUMENT = 'SYN_GBPJPY';
let bars = 0;
const running: Running[] = [];

beforeAll(async () => {
  // Six months of synthetic bars (about 190,000) and their session index.
  const s = await swt(['data', 'synth', '--from', '2024-01-01', '--to', '2024-06-30', '--seed', '5', '--out', path.join(t.dir, 'syn.csv'), '--db', db, '--json']);
  expect(s.status, s.stderr).toBe(0);
  bars = JSON.parse(s.stdout).synth.bars;
  const x = await swt(['data', 'sessions', '--instrument', INSTRUMENT, '--db', db]);
  expect(x.status, x.stderr).toBe(0);
}, 120_000);

afterAll(() => {
  for (const r of running) if (r.child.exitCode === null) r.child.kill('SIGKILL');
  t.cleanup();
});

/** The three commands a user runs beside a long job, each with its own report directory. */
function threeCommands(env: Record<string, string> = {}): Array<{ name: string; run: Running }> {
  const cmds = [
    { name: 'data check', args: ['data', 'check', '--instrument', INSTRUMENT, '--db', db, '--json'] },
    { name: 'backtest', args: ['backtest', '--policy', 'ma-crossover', '--instrument', INSTRUMENT, '--sessions', '20', '--db', db, '--json'] },
    { name: 'validate', args: ['validate', '--policy', 'mean-reversion', '--sessions', '20', '--no-report', '--db', db, '--json'] },
  ];
  return cmds.map((c) => {
    const run = spawnSwt(c.args, { env });
    running.push(run);
    return { name: c.name, run };
  });
}

describe('a process that holds the store and never lets go', () => {
  it('data check, backtest and validate each wait store.lock_wait_ms, then fail with exit code 1 naming its command and PID', async () => {
    const holder = spawnHolder(db);
    running.push(holder);
    await holder.waitFor(/held \d+/);
    const results = await Promise.all(threeCommands({ SWT_STORE__LOCK_WAIT_MS: '1500' }).map(async (c) => ({ name: c.name, r: await c.run.done })));
    for (const { name, r } of results) {
      expect(r.status, `${name}: ${r.stderr}`).toBe(1);
      expect(r.stderr, name).toContain(`store ${db} is in use by another process: PID ${holder.pid} (\`hold-store.mjs ${db}\`) holds it, since `);
      expect(r.stderr, name).toContain('it holds the file for its whole run');
      expect(r.stderr, name).toMatch(/Waited 1\.[5-9] s \(store\.lock_wait_ms = 1500\)/);
      expect(r.stderr, name).toContain('SWT_STORE__LOCK_WAIT_MS');
      expect(r.seconds, name).toBeGreaterThanOrEqual(1.5);
      expect(r.stdout, name).toBe('');
    }
    holder.child.kill('SIGTERM');
    expect((await holder.done).status).toBe(0);
  });

  it('a holder that is not swt (no holder record) is named by the PID DuckDB reports; a stale record is called stale', async () => {
    // the record a killed swt process would leave behind
    const gone = spawnNode(['-e', '']);
    await gone.done;
    const holder = spawnHolder(db, ['--raw']);
    running.push(holder);
    await holder.waitFor(/held \d+/);
    const plain = await swt(['data', 'check', '--instrument', INSTRUMENT, '--db', db], { env: { SWT_STORE__LOCK_WAIT_MS: '300' } });
    expect(plain.status).toBe(1);
    expect(plain.stderr).toMatch(new RegExp(`PID ${holder.pid} \\(.*node.*\\) holds it; it left no holder record`));
    writeFileSync(holderFile(db), JSON.stringify({ pid: gone.pid, command: 'swt features build', process_started_at: '2024-01-01T00:00:00Z', held_since: '2024-01-01T00:00:00Z', hold: 'unit' }));
    const stale = await swt(['data', 'check', '--instrument', INSTRUMENT, '--db', db], { env: { SWT_STORE__LOCK_WAIT_MS: '300' } });
    expect(stale.status).toBe(1);
    expect(stale.stderr).toContain(`PID ${holder.pid} (`);
    expect(stale.stderr).toContain(`the holder record names PID ${gone.pid} (\`swt features build\`), which no longer holds it`);
    holder.child.kill('SIGTERM');
    await holder.done;
    // once the file is free, the stale record does not stand in anyone's way
    const after = await swt(['data', 'check', '--instrument', INSTRUMENT, '--db', db, '--json']);
    expect(after.status, after.stderr).toBe(0);
  });
});

describe('a long feature build that gives the file back between chunks', () => {
  it('data check, backtest and validate run beside it and succeed; the build still finishes every row', async () => {
    const build = spawnSwt(['features', 'build', '--instrument', INSTRUMENT, '--db', db, '--json', '--log-level', 'info'], {
      env: { SWT_FEATURES__BUILD__CHUNK_ROWS: '2048' },
    });
    running.push(build);
    await build.waitFor(/features: chunk committed/, 120_000);
    const others = threeCommands();
    let buildEnded = Infinity;
    void build.done.then(() => (buildEnded = performance.now()));
    const results = await Promise.all(others.map(async (c) => ({ name: c.name, r: await c.run.done, at: performance.now() })));
    // the first of the three finished while the build was still going on: none had to wait for its end
    const firstDone = Math.min(...results.map((x) => x.at));
    const buildStillRunning = firstDone < buildEnded;
    for (const { name, r } of results) expect(r.status, `${name}: ${r.stderr}`).toBe(0);
    expect(JSON.parse(results[0].r.stdout).bars).toBe(bars);
    expect(JSON.parse(results[1].r.stdout).run.sessions).toBe(20);
    expect(JSON.parse(results[2].r.stdout).validations).toHaveLength(1);
    expect(buildStillRunning).toBe(true);
    const b = await build.done;
    expect(b.status, b.stderr).toBe(0);
    const report = JSON.parse(b.stdout);
    expect(report.rows_added).toBe(bars);
    expect(report.rows_total).toBe(bars);
  }, 180_000);
});
