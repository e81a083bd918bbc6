// Migration 006: a store written before JSON went snake_case (camelCase runs.env / runs.metrics, validation
// results of schema swt.validation/1) is converted in place when it is opened, values unchanged.
import { describe, it, expect, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, tempDir } from './helpers/paths.js';
import { Store } from '../src/store/db.js';
import { getRun } from '../src/validation/runs.js';
import { computeMetrics, tradeColumns } from '../src/validation/metrics.js';

interface OldDocs {
  run: Record<string, string | number>;
  validation: Record<string, string | number>;
}
const OLD = JSON.parse(readFileSync(path.join(ROOT, 'test', 'fixtures', 'store-v4-documents.json'), 'utf8')) as OldDocs;
const SNAKE = /^[a-z0-9]+(_[a-z0-9]+)*$/;
const ACTION_NAMES = new Set(['HOLD', 'BUY', 'SELL', 'CLOSE']);

/** Key paths of a JSON value (action names, map keys of the action distribution, count as data). */
function keyPaths(v: unknown, at = ''): string[] {
  if (Array.isArray(v) || v === null || typeof v !== 'object') return [];
  return Object.entries(v).flatMap(([k, x]) => [`${at}${k}`, ...keyPaths(x, `${at}${k}.`)]);
}
const camelKeys = (v: unknown) => keyPaths(v).filter((p) => !SNAKE.test(p.split('.').pop()!) && !ACTION_NAMES.has(p.split('.').pop()!));

const tmp = tempDir('swt-migrate-snake-');
afterAll(() => tmp.cleanup());

/** A store holding the old documents, its schema version set back to before migration 006. */
async function oldStore(name: string): Promise<string> {
  const db = path.join(tmp.dir, `${name}.duckdb`);
  const store = await Store.open(db);
  try {
    const r = OLD.run;
    await store.run(
      `INSERT INTO runs (run_id, kind, policy, params, instrument, data_first, data_last, sessions, session_length, seed, config_hash, env, metrics, trades, seconds)
       VALUES ($1, $2, $3, $4, $5, $6::TIMESTAMP, $7::TIMESTAMP, $8, $9, $10, $11, $12, $13, $14, $15)`,
      [r.run_id, r.kind, r.policy, r.params, r.instrument, r.data_first, r.data_last, r.sessions, r.session_length, Number(r.seed), r.config_hash, r.env, r.metrics, r.trades, r.seconds],
    );
    const v = OLD.validation;
    await store.run(
      `INSERT INTO validations (run_id, policy, params, instrument, range, config_hash, seed, grade, score, recommendation, result)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [v.run_id, v.policy, v.params, v.instrument, v.range, v.config_hash, Number(v.seed), v.grade, v.score, v.recommendation, v.result],
    );
    await store.run('DELETE FROM schema_version WHERE version >= 6');
  } finally {
    store.close();
  }
  return db;
}

describe('migration 006: snake_case stored documents', () => {
  it('the fixture really is the old camelCase form', () => {
    expect(camelKeys(JSON.parse(String(OLD.run.metrics)))).toContain('netPips');
    expect(camelKeys(JSON.parse(String(OLD.run.env)))).toEqual(['pipSize', 'spreadPips', 'reward.idlePenalty', 'barMs']);
    expect(JSON.parse(String(OLD.validation.result)).schema).toBe('swt.validation/1');
  });

  it('converts runs.env, runs.metrics and validations.result on open, keeping every value', async () => {
    const db = await oldStore('convert');
    const store = await Store.open(db);
    try {
      expect(await store.schemaVersion()).toBeGreaterThanOrEqual(6);
      const oldMetrics = JSON.parse(String(OLD.run.metrics)) as Record<string, unknown>;
      const run = (await getRun(store, String(OLD.run.run_id)))!;
      expect(run.env).toEqual({ pip_size: 0.01, spread_pips: 4, units: 1, reward: { mode: 'amddp', penalty: 0.01, idle_penalty: 0 }, stack: 1, bar_ms: 60000 });
      // Exactly the keys today's metrics have, with the old values.
      const today = computeMetrics({ trades: tradeColumns([{ netPips: 1, side: 'long', barsHeld: 1, exitTs: 0 }]) });
      expect(keyPaths(run.metrics).sort()).toEqual(keyPaths(today).sort());
      expect(run.metrics.net_pips).toBe(oldMetrics.netPips);
      expect(run.metrics.win_rate).toBe(oldMetrics.winRate);
      expect(run.metrics.max_drawdown_pips).toBe(oldMetrics.maxDrawdownPips);
      expect(run.metrics.long.net_pips).toBe((oldMetrics.long as Record<string, unknown>).netPips);
      expect(run.metrics.actions).toEqual(oldMetrics.actions);

      const row = (await store.one<{ result: string }>('SELECT result::VARCHAR AS result FROM validations'))!;
      const result = JSON.parse(row.result) as Record<string, any>;
      const old = JSON.parse(String(OLD.validation.result)) as Record<string, any>;
      expect(result.schema).toBe('swt.validation/2');
      expect(result.migrated_from).toBe('swt.validation/1');
      expect(result.provenance.env).toEqual({ pip_size: 0.01, spread_pips: 4, units: 1, reward: { mode: 'amddp' } });
      expect(keyPaths(result.metrics).sort()).toEqual(keyPaths(today).sort());
      expect(result.metrics.net_pips).toBe(old.metrics.netPips);
      expect(result.grade).toEqual(old.grade);
      expect(result.montecarlo).toEqual(old.montecarlo);
      expect(camelKeys(result)).toEqual([]);
    } finally {
      store.close();
    }
  });

  it('leaves documents that are already snake_case as they are (running it twice changes nothing)', async () => {
    const db = await oldStore('twice');
    const store = await Store.open(db);
    const before = await store.all('SELECT env, metrics FROM runs');
    const result = await store.one<{ r: string }>('SELECT result::VARCHAR AS r FROM validations');
    await store.run('DELETE FROM schema_version WHERE version >= 6');
    store.close();
    const again = await Store.open(db);
    try {
      expect(await again.all('SELECT env, metrics FROM runs')).toEqual(before);
      expect(await again.one<{ r: string }>('SELECT result::VARCHAR AS r FROM validations')).toEqual(result);
    } finally {
      again.close();
    }
  });
});
