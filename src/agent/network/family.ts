// The network families a checkpoint may hold: Stochastic MuZero (./spec.ts, three ONNX graphs) and the
// PPO actor-critic (./ppo-spec.ts, one graph). What checkpoints need of a spec (its parameters, its
// ONNX graphs, its architecture id) is answered here, once, by the spec's format.
import { hashOf } from '../../config/load.js';
import { GRAPH_NAMES, checkParams, parameters, type NetworkSpec, type ParamSpec, type Weights } from './spec.js';
import { PPO_GRAPH, checkPpoWeights, isPpoSpec, ppoParameters, type PpoSpec } from './ppo-spec.js';
import { buildOnnxGraphs, buildPpoOnnx } from './onnx.js';

export type AnySpec = NetworkSpec | PpoSpec;

/** Which learner a spec (or a stored spec's `format`) belongs to. */
export function algoOf(spec: { format: string }): 'muzero' | 'ppo' {
  return isPpoSpec(spec) ? 'ppo' : 'muzero';
}

export function specParameters(spec: AnySpec): ParamSpec[] {
  return isPpoSpec(spec) ? ppoParameters(spec) : parameters(spec);
}

export function checkSpecWeights(spec: AnySpec, w: Weights): void {
  if (isPpoSpec(spec)) checkPpoWeights(spec, w);
  else checkParams(parameters(spec), w);
}

/** The ONNX graphs' names (a checkpoint stores `<name>.onnx` for each). */
export function specGraphNames(spec: AnySpec): readonly string[] {
  return isPpoSpec(spec) ? [PPO_GRAPH] : GRAPH_NAMES;
}

export function buildSpecGraphs(spec: AnySpec, w: Weights): Record<string, Uint8Array> {
  return isPpoSpec(spec) ? { [PPO_GRAPH]: buildPpoOnnx(spec, w) } : buildOnnxGraphs(spec, w);
}

export function specArchitectureId(spec: AnySpec): string {
  return hashOf(spec);
}
