// Policies for tests: created through the registry with the default env and no fit sample.
import { createPolicy } from '../../src/agent/policies/registry.js';
import type { FitSample, ParamValue, Policy } from '../../src/agent/policies/types.js';
import { envConfig, type EnvConfig } from '../../src/env/config.js';

export function makePolicy(name: string, params: Record<string, ParamValue> = {}, seed = 0, env: EnvConfig = envConfig(), fit: FitSample | null = null): Promise<Policy> {
  return createPolicy(name, params, { seed, env, fit });
}
