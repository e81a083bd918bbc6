// Random inputs for the network's graphs: observations ~ N(0, 4), latents in [0, 1), valid indices.
import type { Feeds } from '../../src/agent/network/model.js';
import type { GraphName, NetworkSpec } from '../../src/agent/network/spec.js';
import { Prng } from '../../src/util/prng.js';

export function randomFeeds(spec: NetworkSpec, graph: GraphName, n: number, seed: number): Feeds {
  const rng = new Prng(seed);
  return spec.graphs[graph].inputs.map((inp) =>
    inp.kind === 'index'
      ? Int32Array.from({ length: n }, () => rng.below(inp.size))
      : inp.name === 'obs'
        ? Float32Array.from({ length: n * inp.size }, () => rng.normal() * 2)
        : Float32Array.from({ length: n * inp.size }, () => rng.float()),
  );
}

