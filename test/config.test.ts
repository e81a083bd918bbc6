import { describe, it, expect } from 'vitest';
import { loadConfig, configHash, ConfigError } from '../src/config/load.js';
import { swt } from './helpers/paths.js';

describe('configuration', () => {
  it('loads the defaults', () => {
    const c = loadConfig({ env: {} });
    expect(c.data.max_gap_minutes).toBe(10);
    expect(c.instruments.GBP_JPY.spread_pips).toBe(4);
  });

  it('SWT_* environment variables override the file and flags override both', () => {
    const env = { SWT_DATA__MAX_GAP_MINUTES: '15', SWT_INSTRUMENTS__GBP_JPY__SPREAD_PIPS: '3.5' };
    const c = loadConfig({ env });
    expect(c.data.max_gap_minutes).toBe(15);
    expect(c.instruments.GBP_JPY.spread_pips).toBe(3.5);
    const c2 = loadConfig({ env, overrides: { 'data.max_gap_minutes': 20 } });
    expect(c2.data.max_gap_minutes).toBe(20);
  });

  it('an invalid value fails with the key path and the reason', () => {
    expect(() => loadConfig({ env: { SWT_DATA__SESSION_LENGTH: '-3' } })).toThrow(ConfigError);
    expect(() => loadConfig({ env: { SWT_DATA__SESSION_LENGTH: '-3' } })).toThrow(/data\.session_length: .*>=\s*2/);
    expect(() => loadConfig({ env: { SWT_DATA__NO_SUCH_KEY: '1' } })).toThrow(/data: .*no_such_key/i);
  });

  it('the hash changes with any value and not with key order', () => {
    const a = loadConfig({ env: {} });
    const b = loadConfig({ env: { SWT_DATA__MAX_GAP_MINUTES: '11' } });
    expect(configHash(a)).not.toBe(configHash(b));
    const reordered = Object.fromEntries(Object.entries(a).reverse()) as typeof a;
    expect(configHash(reordered)).toBe(configHash(a));
  });

  it('`swt config show --json` prints only JSON with the config and its hash', async () => {
    const r = await swt(['config', 'show', '--json'], { env: { SWT_DATA__MAX_GAP_MINUTES: '12' } });
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.hash).toMatch(/^[0-9a-f]{16}$/);
    expect(out.config.data.max_gap_minutes).toBe(12);
  });

  it('`swt config show` with a bad env value exits 2 naming the key', async () => {
    const r = await swt(['config', 'show'], { env: { SWT_DATA__MAX_GAP_MINUTES: 'abc' } });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/data\.max_gap_minutes/);
    expect(r.stdout).toBe('');
  });
});
