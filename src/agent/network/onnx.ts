// The ONNX build of the network spec: the inference graphs `initial` (h + f), `decision` (phi + psi)
// and `chance` (g + f) as ONNX models (IR 8, opset 17), with the weights as initializers. No JS tool
// converts a tfjs model to ONNX, so the graphs are written from the spec directly; the layers map
// one to one onto ONNX operators (Gemm, LayerNormalization, Relu, Add, ReduceMin/Max, Softmax).
// The bytes depend only on the spec and the weights, so a rebuild reproduces them exactly.
import onnxProto from 'onnx-proto';
import { GRAPH_NAMES, checkWeights, graphOutputs, parameters, walkGraph, type FunctionInput, type FunctionName, type GraphName, type Layer, type NetworkSpec, type ParamSpec, type Weights } from './spec.js';
import { NORM_MEAN, NORM_STD, PPO_GRAPH, checkPpoWeights, ppoParameters, type PpoSpec } from './ppo-spec.js';

const { onnx } = onnxProto;

export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 17;

export type OnnxGraphs = Record<GraphName, Uint8Array>;

const F32 = onnx.TensorProto.DataType.FLOAT;
const I32 = onnx.TensorProto.DataType.INT32;
const I64 = onnx.TensorProto.DataType.INT64;

function floatBytes(data: Float32Array): Uint8Array {
  // rawData is little-endian; so is every platform Node runs on here.
  return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
}

function attrInt(name: string, i: number): onnxProto.onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INT, i };
}
function attrInts(name: string, ints: number[]): onnxProto.onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INTS, ints };
}
function attrFloat(name: string, f: number): onnxProto.onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.FLOAT, f };
}

function valueInfo(name: string, elemType: number, dims: Array<number | string>): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

class GraphWriter {
  readonly nodes: onnxProto.onnx.INodeProto[] = [];
  readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  private readonly have = new Set<string>();
  private readonly shapes: Map<string, number[]>;
  private n = 0;

  constructor(
    params: ParamSpec[],
    private readonly weights: Weights,
    private readonly layerNormEpsilon: number,
    private readonly minmaxEpsilon: number,
  ) {
    this.shapes = new Map(params.map((p) => [p.name, p.shape]));
  }

  fresh(hint: string): string {
    return `${hint}_${this.n++}`;
  }

  node(op: string, inputs: string[], attrs: onnxProto.onnx.IAttributeProto[] = [], hint = op.toLowerCase()): string {
    const out = this.fresh(hint);
    this.nodes.push({ opType: op, input: inputs, output: [out], name: `${out}_node`, attribute: attrs });
    return out;
  }

  /** A weight as an initializer (once per graph, however often it is used). */
  param(name: string): string {
    if (!this.have.has(name)) {
      const dims = this.shapes.get(name);
      if (!dims) throw new Error(`onnx: no parameter ${name} in the spec`);
      this.initializers.push({ name, dims, dataType: F32, rawData: floatBytes(this.weights.get(name)!) });
      this.have.add(name);
    }
    return name;
  }

  constant(name: string, dims: number[], data: Float32Array): string {
    if (!this.have.has(name)) {
      this.initializers.push({ name, dims, dataType: F32, rawData: floatBytes(data) });
      this.have.add(name);
    }
    return name;
  }

  int64s(name: string, values: number[]): string {
    if (!this.have.has(name)) {
      const d = BigInt64Array.from(values.map((v) => BigInt(v)));
      this.initializers.push({ name, dims: [values.length], dataType: I64, rawData: new Uint8Array(d.buffer) });
      this.have.add(name);
    }
    return name;
  }

  /** The model bytes of the nodes written so far (IR 8, opset 17). */
  model(producerVersion: string, name: string, input: onnxProto.onnx.IValueInfoProto[], output: onnxProto.onnx.IValueInfoProto[]): Uint8Array {
    const model: onnxProto.onnx.IModelProto = {
      irVersion: ONNX_IR_VERSION,
      opsetImport: [{ domain: '', version: ONNX_OPSET }],
      producerName: 'swt',
      producerVersion,
      graph: { name, node: this.nodes, initializer: this.initializers, input, output },
    };
    return onnx.ModelProto.encode(model).finish();
  }

  /** [size, size] identity: Gather(eye, index) is the one-hot row of each index. */
  eye(size: number): string {
    const d = new Float32Array(size * size);
    for (let i = 0; i < size; i++) d[i * size + i] = 1;
    return this.constant(`eye_${size}`, [size, size], d);
  }

  layers(x: string, layers: Layer[]): string {
    for (const l of layers) {
      switch (l.op) {
        case 'dense':
          x = this.node('Gemm', [x, this.param(`${l.name}/kernel`), this.param(`${l.name}/bias`)]);
          break;
        case 'layer_norm':
          x = this.node('LayerNormalization', [x, this.param(`${l.name}/gamma`), this.param(`${l.name}/beta`)], [
            attrInt('axis', -1),
            attrFloat('epsilon', this.layerNormEpsilon),
          ]);
          break;
        case 'relu':
          x = this.node('Relu', [x]);
          break;
        case 'residual':
          x = this.node('Add', [x, this.layers(x, l.body)]);
          break;
        case 'minmax': {
          const lo = this.node('ReduceMin', [x], [attrInts('axes', [-1]), attrInt('keepdims', 1)]);
          const hi = this.node('ReduceMax', [x], [attrInts('axes', [-1]), attrInt('keepdims', 1)]);
          const eps = this.constant('minmax_epsilon', [], Float32Array.of(this.minmaxEpsilon));
          const range = this.node('Max', [this.node('Sub', [hi, lo]), eps]);
          x = this.node('Div', [this.node('Sub', [x, lo]), range]);
          break;
        }
      }
    }
    return x;
  }

  call(spec: NetworkSpec, fn: FunctionName, args: string[]): Record<string, string> {
    const f = spec.functions[fn];
    const parts = f.inputs.map((inp: FunctionInput, i) => (inp.kind === 'index' ? this.node('Gather', [this.eye(inp.size), args[i]], [attrInt('axis', 0)], 'onehot') : args[i]));
    const x = this.layers(parts.length === 1 ? parts[0] : this.node('Concat', parts, [attrInt('axis', 1)]), f.trunk);
    const out: Record<string, string> = {};
    for (const h of f.heads) out[h.name] = this.layers(x, h.layers);
    return out;
  }
}

/** One inference graph as ONNX model bytes. */
export function buildOnnxGraph(spec: NetworkSpec, weights: Weights, name: GraphName): Uint8Array {
  checkWeights(spec, weights);
  const g = spec.graphs[name];
  const w = new GraphWriter(parameters(spec), weights, spec.layer_norm_epsilon, spec.minmax_epsilon);
  const outputs = walkGraph(
    spec,
    name,
    g.inputs.map((inp) => inp.name),
    (fn, args) => w.call(spec, fn, args),
  );
  for (const o of outputs) {
    // Support heads leave the graph as probabilities, ready for the two-hot decoder.
    const from = o.kind === 'support' ? w.node('Softmax', [o.value], [attrInt('axis', -1)]) : o.value;
    w.nodes.push({ opType: 'Identity', input: [from], output: [o.name], name: `${o.name}_out` });
  }
  return w.model(
    `${spec.format}/${spec.major}`,
    name,
    g.inputs.map((inp) => (inp.kind === 'index' ? valueInfo(inp.name, I32, ['n']) : valueInfo(inp.name, F32, ['n', inp.size]))),
    graphOutputs(spec, name).map((o) => valueInfo(o.name, F32, ['n', o.size])),
  );
}

/** The three inference graphs. */
export function buildOnnxGraphs(spec: NetworkSpec, weights: Weights): OnnxGraphs {
  const out = {} as OnnxGraphs;
  for (const name of GRAPH_NAMES) out[name] = buildOnnxGraph(spec, weights, name);
  return out;
}

/**
 * The PPO actor-critic as one ONNX graph `policy`: inputs `obs` [n, H·D] (the window, oldest first)
 * and `mask` [n, A] (1 legal, 0 not); outputs `logits` [n, A] (masked) and `value` [n, 1]. The
 * normaliser (Reshape, Sub, Div, Clip) runs inside the graph with the checkpoint's statistics.
 */
export function buildPpoOnnx(spec: PpoSpec, weights: Weights): Uint8Array {
  checkPpoWeights(spec, weights);
  const { history: H, obs_dim: D, num_actions: A } = spec;
  const w = new GraphWriter(ppoParameters(spec), weights, spec.layer_norm_epsilon, 0);
  const x3 = w.node('Reshape', ['obs', w.int64s('window_shape', [-1, H, D])]);
  const centred = w.node('Sub', [x3, w.param(NORM_MEAN)]);
  const scaled = w.node('Div', [centred, w.param(NORM_STD)]);
  const clipped = w.node('Clip', [scaled, w.constant('clamp_lo', [], Float32Array.of(-spec.clamp)), w.constant('clamp_hi', [], Float32Array.of(spec.clamp))]);
  const flat = w.node('Reshape', [clipped, w.int64s('flat_shape', [-1, H * D])]);
  const current = w.node('Slice', [flat, w.int64s('current_start', [(H - 1) * D]), w.int64s('current_end', [H * D]), w.int64s('current_axis', [1])]);
  const enc = w.layers(flat, spec.encoder);
  const x = w.node('Concat', [enc, current], [attrInt('axis', 1)]);
  const raw = w.layers(x, spec.actor);
  const penalty = w.node('Mul', [w.node('Sub', ['mask', w.constant('one', [], Float32Array.of(1))]), w.constant('mask_scale', [], Float32Array.of(-spec.mask_logit))]);
  const logits = w.node('Add', [raw, penalty]);
  const value = w.layers(x, spec.critic);
  w.nodes.push({ opType: 'Identity', input: [logits], output: ['logits'], name: 'logits_out' }, { opType: 'Identity', input: [value], output: ['value'], name: 'value_out' });
  return w.model(`${spec.format}/${spec.major}`, PPO_GRAPH, [valueInfo('obs', F32, ['n', H * D]), valueInfo('mask', F32, ['n', A])], [valueInfo('logits', F32, ['n', A]), valueInfo('value', F32, ['n', 1])]);
}
