// The effective configuration: config/default.yaml (or --config FILE), then SWT_* environment
// variables, then command-line overrides; validated by zod so that a bad value fails with its key path.
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import YAML from 'yaml';
import { configSchema, type Config } from './schema.js';
import { InputError } from '../util/errors.js';

/** An invalid config file, value or SWT_* override (exit code 2). */
export class ConfigError extends InputError {}

export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'config', 'default.yaml'))) return dir;
    dir = path.dirname(dir);
  }
  throw new Error('cannot locate the swt package root (config/default.yaml)');
}

export const DEFAULT_CONFIG_FILE = () => path.join(packageRoot(), 'config', 'default.yaml');

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function parseScalar(raw: string): Json {
  // YAML scalars: numbers, booleans and quoted strings read as a user would expect.
  try {
    return YAML.parse(raw) as Json;
  } catch {
    return raw;
  }
}

/** Sets `value` at a dotted path, creating objects on the way. */
export function setPath(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const keys = dotted.split('.');
  let node: Record<string, unknown> = target;
  for (const k of keys.slice(0, -1)) {
    const next = node[k];
    if (next === undefined || next === null || typeof next !== 'object') node[k] = {};
    node = node[k] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]] = value;
}

/** SWT_DATA__MAX_GAP_MINUTES=15 → data.max_gap_minutes = 15. Instrument keys keep their case. */
export function envOverrides(env: NodeJS.ProcessEnv, base: Record<string, unknown>): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('SWT_') || raw === undefined) continue;
    const parts = name.slice(4).split('__');
    // Only variables that name a config section are overrides; others (SWT_CONFIG, SWT_NATIVE_LIB,
    // SWT_SHARED …) belong to tools. A wrong key inside a section still fails validation.
    if (!Object.keys(base).some((k) => k.toLowerCase() === parts[0].toLowerCase())) continue;
    // Resolve each segment case-insensitively against the defaults so GBP_JPY-style keys survive.
    const keys: string[] = [];
    let node: unknown = base;
    for (const part of parts) {
      const candidates = node && typeof node === 'object' ? Object.keys(node as object) : [];
      const hit = candidates.find((c) => c.toLowerCase() === part.toLowerCase());
      const key = hit ?? part.toLowerCase();
      keys.push(key);
      node = hit ? (node as Record<string, unknown>)[hit] : undefined;
    }
    out.push([keys.join('.'), parseScalar(raw)]);
  }
  return out;
}

export function formatIssues(error: { issues: Array<{ path: PropertyKey[]; message: string }> }, source: string): string {
  return error.issues
    .map((i) => `  ${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
    .join('\n')
    .replace(/^/, `invalid configuration (${source}):\n`);
}

export interface LoadOptions {
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Dotted-path overrides from CLI flags, applied last. */
  overrides?: Record<string, unknown>;
  /** A training preset (train_presets.<name>, or ppo_presets.<name> for algo ppo) applied over the file, under the SWT_* variables and flags. */
  preset?: string;
  /** Which learner's presets `preset` names (default muzero: train_presets). */
  algo?: 'muzero' | 'ppo';
}

export function loadConfig(opts: LoadOptions = {}): Config {
  const file = opts.file ?? opts.env?.SWT_CONFIG ?? process.env.SWT_CONFIG ?? DEFAULT_CONFIG_FILE();
  if (!existsSync(file)) throw new ConfigError(`config file not found: ${file}`);
  let base: Record<string, unknown>;
  try {
    base = (YAML.parse(readFileSync(file, 'utf8')) ?? {}) as Record<string, unknown>;
  } catch (e) {
    throw new ConfigError(`config file ${file} is not valid YAML: ${(e as Error).message}`);
  }
  if (file !== DEFAULT_CONFIG_FILE()) {
    // A user file overrides the defaults; unspecified keys keep their default values.
    const defaults = YAML.parse(readFileSync(DEFAULT_CONFIG_FILE(), 'utf8')) as Record<string, unknown>;
    base = deepMerge(defaults, base);
  }
  const sources = [file];
  if (opts.preset !== undefined) {
    const section = opts.algo === 'ppo' ? 'ppo_presets' : 'train_presets';
    const presets = (base[section] ?? {}) as Record<string, Record<string, unknown>>;
    if (!Object.hasOwn(presets, opts.preset)) throw new ConfigError(`unknown training preset "${opts.preset}" (${section} has: ${Object.keys(presets).join(', ')})`);
    base = deepMerge(base, presets[opts.preset]);
    sources.push(`${section === 'ppo_presets' ? 'ppo ' : ''}preset ${opts.preset}`);
  }
  const envPairs = envOverrides(opts.env ?? process.env, base);
  for (const [k, v] of envPairs) setPath(base, k, v);
  if (envPairs.length) sources.push('SWT_* environment');
  for (const [k, v] of Object.entries(opts.overrides ?? {})) if (v !== undefined) setPath(base, k, v);
  if (opts.overrides && Object.keys(opts.overrides).length) sources.push('command-line flags');
  const parsed = configSchema.safeParse(base);
  if (!parsed.success) throw new ConfigError(formatIssues(parsed.error, sources.join(' + ')));
  return parsed.data;
}

/** `b` over `a`, objects merged key by key (arrays and scalars replaced). */
export function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const av = out[k];
    if (v && typeof v === 'object' && !Array.isArray(v) && av && typeof av === 'object' && !Array.isArray(av)) {
      out[k] = deepMerge(av as Record<string, unknown>, v as Record<string, unknown>);
    } else out[k] = v;
  }
  return out;
}

/** Canonical JSON (sorted keys) so the hash does not depend on key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

export function hashOf(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 16);
}

export function configHash(config: Config): string {
  return hashOf(config);
}

export function instrumentSpec(config: Config, instrument: string): { pip_size: number; spread_pips: number } {
  const spec = config.instruments[instrument];
  if (spec) return spec;
  // Unknown instruments follow the OANDA convention: JPY quotes have 0.01 pips, others 0.0001. The quote
  // currency is the second part of the name (GBP_JPY, and variants such as GBP_JPY_MT4 or SYN_GBPJPY).
  const parts = instrument.split('_');
  const quote = parts[1] ?? parts[0];
  return { pip_size: quote.endsWith('JPY') ? 0.01 : 0.0001, spread_pips: 2 };
}
