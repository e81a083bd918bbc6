// The network as a SearchModel (src/agent/model.ts), over either build of the spec: ONNX Runtime
// (self-play, validation, live) or tfjs (training, and the parity reference). Both run the same
// three graphs; what the search needs from their outputs (values decoded from the support with the
// native two-hot helpers, the same the search and training use) is computed once, here.
import * as ort from 'onnxruntime-node';
import * as tf from '@tensorflow/tfjs-core';
import { twoHotDecode } from '../../../bindings/mcts.js';
import type { ChanceOutput, DecisionOutput, InitialOutput, SearchModel } from '../model.js';
import { graphOutputs, type GraphName, type NetworkSpec, type Weights } from './spec.js';
import { TfjsNetwork } from './tfjs.js';
import type { OnnxGraphs } from './onnx.js';

/** Graph inputs in spec order: float rows [n, size] or int32 indices [n]. */
export type Feeds = Array<Float32Array | Int32Array>;
export type GraphResult = Record<string, Float32Array>;

/** Something that evaluates the spec's graphs on a batch of n rows. */
export interface GraphRunner {
  readonly spec: NetworkSpec;
  /** Which engine runs the graphs (onnxruntime-cpu, or the tfjs backend name). */
  readonly engine: string;
  run(graph: GraphName, feeds: Feeds, n: number): Promise<GraphResult>;
  dispose(): Promise<void>;
}

function checkFeeds(spec: NetworkSpec, graph: GraphName, feeds: Feeds, n: number): void {
  const inputs = spec.graphs[graph].inputs;
  if (feeds.length !== inputs.length) throw new Error(`${graph}: expected ${inputs.length} inputs, got ${feeds.length}`);
  inputs.forEach((inp, i) => {
    const want = inp.kind === 'index' ? n : n * inp.size;
    if (feeds[i].length !== want) throw new Error(`${graph}: input ${inp.name} has ${feeds[i].length} values, expected ${want} (${n} rows)`);
    if (inp.kind === 'index' && !(feeds[i] instanceof Int32Array)) throw new Error(`${graph}: input ${inp.name} must be an Int32Array of indices`);
  });
}

/** The SearchModel of a network, on whichever runner evaluates it. */
export class NetworkModel implements SearchModel<Float32Array> {
  readonly numActions: number;
  readonly numCodes: number;
  readonly latentSize: number;
  readonly priors = 'logits' as const;

  constructor(readonly runner: GraphRunner) {
    const s = runner.spec;
    this.numActions = s.num_actions;
    this.numCodes = s.num_codes;
    this.latentSize = s.latent;
  }

  get spec(): NetworkSpec {
    return this.runner.spec;
  }

  private scratch = new Float64Array(0);

  /** Scalars from support probabilities [k, bins]. */
  decode(probs: Float32Array): Float64Array {
    // The helper takes float64: widen into a reused buffer rather than a new array per call.
    if (this.scratch.length < probs.length) this.scratch = new Float64Array(probs.length);
    const wide = this.scratch.subarray(0, probs.length);
    wide.set(probs);
    return twoHotDecode(wide, this.spec.support);
  }

  async initial(obs: Float32Array, n: number): Promise<InitialOutput> {
    const r = await this.runner.run('initial', [obs.length === n * this.spec.obs_dim ? obs : obs.subarray(0, n * this.spec.obs_dim)], n);
    return { latents: r.latent, policy: r.policy, values: this.decode(r.value) };
  }

  async recurrentDecision(latents: Float32Array, actions: Int32Array): Promise<DecisionOutput> {
    const r = await this.runner.run('decision', [latents, actions], actions.length);
    return { afterstates: r.afterstate, chancePolicy: r.chance, values: this.decode(r.q) };
  }

  async recurrentChance(afterstates: Float32Array, codes: Int32Array): Promise<ChanceOutput> {
    const r = await this.runner.run('chance', [afterstates, codes], codes.length);
    return { latents: r.latent, rewards: this.decode(r.reward), policy: r.policy, values: this.decode(r.value) };
  }

  dispose(): Promise<void> {
    return this.runner.dispose();
  }
}

// ---- ONNX Runtime -----------------------------------------------------------------------------

export interface OnnxOptions {
  /** Threads inside one graph run (default 1: the batch is small, and workers parallelise instead). */
  threads?: number;
}

class OnnxRunner implements GraphRunner {
  readonly engine = 'onnxruntime-cpu';
  private constructor(
    readonly spec: NetworkSpec,
    private readonly sessions: Record<GraphName, ort.InferenceSession>,
  ) {}

  static async create(spec: NetworkSpec, graphs: OnnxGraphs, opts: OnnxOptions = {}): Promise<OnnxRunner> {
    const options: ort.InferenceSession.SessionOptions = {
      intraOpNumThreads: opts.threads ?? 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    };
    const sessions = {} as Record<GraphName, ort.InferenceSession>;
    for (const name of Object.keys(spec.graphs) as GraphName[]) {
      try {
        sessions[name] = await ort.InferenceSession.create(graphs[name], options);
      } catch (e) {
        throw new Error(`onnxruntime cannot load the ${name} graph: ${(e as Error).message}`);
      }
    }
    return new OnnxRunner(spec, sessions);
  }

  async run(graph: GraphName, feeds: Feeds, n: number): Promise<GraphResult> {
    checkFeeds(this.spec, graph, feeds, n);
    const inputs = this.spec.graphs[graph].inputs;
    const feed: Record<string, ort.Tensor> = {};
    inputs.forEach((inp, i) => {
      feed[inp.name] = inp.kind === 'index' ? new ort.Tensor('int32', feeds[i] as Int32Array, [n]) : new ort.Tensor('float32', feeds[i] as Float32Array, [n, inp.size]);
    });
    const res = await this.sessions[graph].run(feed);
    const out: GraphResult = {};
    for (const o of graphOutputs(this.spec, graph)) out[o.name] = res[o.name].data as Float32Array;
    return out;
  }

  async dispose(): Promise<void> {
    for (const s of Object.values(this.sessions)) await s.release();
  }
}

/** The network served by ONNX Runtime from its three graphs. */
export class OnnxModel extends NetworkModel {
  static async create(spec: NetworkSpec, graphs: OnnxGraphs, opts: OnnxOptions = {}): Promise<OnnxModel> {
    return new OnnxModel(await OnnxRunner.create(spec, graphs, opts));
  }
}

// ---- tfjs ---------------------------------------------------------------------------------------

class TfjsRunner implements GraphRunner {
  readonly spec: NetworkSpec;
  readonly engine: string;
  constructor(
    readonly net: TfjsNetwork,
    private readonly owned: boolean,
  ) {
    this.spec = net.spec;
    this.engine = `tfjs-${tf.getBackend()}`;
  }

  async run(graph: GraphName, feeds: Feeds, n: number): Promise<GraphResult> {
    checkFeeds(this.spec, graph, feeds, n);
    const inputs = this.spec.graphs[graph].inputs;
    const outs = tf.tidy(() => {
      const ts = inputs.map((inp, i) => (inp.kind === 'index' ? tf.tensor1d(feeds[i] as Int32Array, 'int32') : tf.tensor2d(feeds[i] as Float32Array, [n, inp.size])));
      return this.net.graph(graph, ts);
    });
    const out: GraphResult = {};
    for (const [k, t] of Object.entries(outs)) out[k] = t.dataSync() as Float32Array;
    tf.dispose(Object.values(outs));
    return out;
  }

  async dispose(): Promise<void> {
    if (this.owned) this.net.dispose();
  }
}

/** The network evaluated by tfjs (whatever backend is active, see ./backend.ts). */
export class TfjsModel extends NetworkModel {
  /** A model over its own copy of the weights. */
  static fromWeights(spec: NetworkSpec, weights: Weights): TfjsModel {
    return new TfjsModel(new TfjsRunner(new TfjsNetwork(spec, weights), true));
  }

  /** A model over a network being trained (sees its current variables; dispose leaves them alone). */
  static fromNetwork(net: TfjsNetwork): TfjsModel {
    return new TfjsModel(new TfjsRunner(net, false));
  }
}
