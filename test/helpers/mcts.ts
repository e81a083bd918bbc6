// MCTS configurations for tests, filled from config/default.yaml: the one place the MCTS defaults
// live (the schema validates them, the binding and the Rust core require every field).
import { loadConfig, DEFAULT_CONFIG_FILE } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { mctsConfigFromConfig, type MctsShape } from '../../src/agent/search.js';
import type { MctsConfig } from '../../bindings/mcts.js';

export type MctsSection = Config['mcts'];
export type MctsOverrides = Partial<Omit<MctsSection, 'gumbel'>> & { gumbel?: Partial<MctsSection['gumbel']> };

let defaults: MctsSection | null = null;

/** The `mcts` section of config/default.yaml (no SWT_* variables, no user file). */
export function defaultMcts(): MctsSection {
  defaults ??= loadConfig({ file: DEFAULT_CONFIG_FILE(), env: {} }).mcts;
  return structuredClone(defaults);
}

/** The default section with some fields replaced (the `gumbel` group field by field). */
export function mctsSection(overrides: MctsOverrides = {}): MctsSection {
  const d = defaultMcts();
  return { ...d, ...overrides, gumbel: { ...d.gumbel, ...overrides.gumbel } };
}

/** A complete native batch configuration: the defaults, the overrides and the shape. */
export function batchConfig(shape: MctsShape, overrides: MctsOverrides = {}): MctsConfig {
  return mctsConfigFromConfig(mctsSection(overrides), shape);
}
