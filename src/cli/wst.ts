// `swt wst`: the scattering transform of given signals, for inspection and for checking the transform
// against another implementation (e.g. Kymatio). Thin: parse, validate, call bindings/wst, print.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { WstPlan, type WstPathMeta } from '../../bindings/wst.js';
import { NativeError, STATUS } from '../../bindings/native.js';
import { action, UsageError } from './context.js';

interface WstCliOpts {
  json?: boolean;
  J: string;
  Q: string;
  maxOrder: string;
  input: string;
  full?: boolean;
  zscore?: boolean;
  threads: string;
  length: string;
}

function intOption(name: string, v: string, min: number): number {
  const n = Number(v);
  if (!/^\s*-?\d+\s*$/.test(v) || !Number.isInteger(n) || n < min) {
    throw new UsageError(`${name} must be an integer >= ${min}, got "${v}"`);
  }
  return n;
}

function parseQ(v: string): [number, number] {
  const parts = v.split(',');
  if (parts.length < 1 || parts.length > 2) throw new UsageError(`--Q must be Q1 or Q1,Q2 (integers), got "${v}"`);
  const q1 = intOption('--Q (Q1)', parts[0], 0);
  const q2 = parts.length === 2 ? intOption('--Q (Q2)', parts[1], 0) : 1;
  return [q1, q2];
}

/** Reads {"signals": [[length numbers], ...]} and returns the signals back to back. */
export function readSignals(file: string, length: number): { flat: Float64Array; count: number } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read input file ${file}: ${(e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    // Python's json writes NaN/Infinity, which JSON does not allow: re-read them as strings so that
    // the message can say which sample it was.
    const marked = text.replace(/(?<![\w".])(-?Infinity|NaN)(?![\w"])/g, '"$1"');
    try {
      doc = JSON.parse(marked);
    } catch {
      throw new UsageError(`${file} is not valid JSON: ${(e as Error).message}`);
    }
  }
  const expected = `expected {"signals": [[${length} numbers], ...]}`;
  if (typeof doc !== 'object' || doc === null || !Array.isArray((doc as { signals?: unknown }).signals)) {
    throw new UsageError(`${file}: no "signals" array; ${expected}`);
  }
  const signals = (doc as { signals: unknown[] }).signals;
  if (signals.length === 0) throw new UsageError(`${file}: "signals" is empty; ${expected}`);
  const flat = new Float64Array(signals.length * length);
  signals.forEach((s, i) => {
    if (!Array.isArray(s)) throw new UsageError(`${file}: signals[${i}] is not an array; ${expected}`);
    if (s.length !== length) {
      throw new UsageError(`${file}: signals[${i}] has ${s.length} samples, expected ${length} (the transform's length)`);
    }
    s.forEach((v: unknown, t: number) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        const shown = typeof v === 'string' && /^(-?Infinity|NaN)$/.test(v) ? v : JSON.stringify(v);
        throw new UsageError(`${file}: signals[${i}][${t}] is ${shown}; every sample must be a finite number`);
      }
      flat[i * length + t] = v;
    });
  });
  return { flat, count: signals.length };
}

function describePath(m: WstPathMeta): string {
  if (m.order === 0) return 'order 0 (low-pass)';
  const parts = m.j.slice(0, m.order).map((j, k) => `j${k + 1}=${j} xi${k + 1}=${(m.xi[k] as number).toPrecision(4)}`);
  return `order ${m.order} ${parts.join(' ')}`;
}

export function registerWst(program: Command): void {
  // No config or store: the transform is fully defined by its flags (and needs no SWT_* settings).
  program
    .command('wst')
    .description(
      'wavelet scattering transform of signals (Kymatio Scattering1D: T = 2^J, average local, reflect padding)\n' +
        'input: {"signals": [[256 numbers], ...]}; output: config, dims, per-path meta and time-averaged features',
    )
    .requiredOption('--J <int>', 'log2 of the averaging scale T = 2^J (1..log2(length))')
    .requiredOption('--Q <q1[,q2]>', 'wavelets per octave, first order [, second order] (default second: 1)')
    .option('--max-order <int>', 'maximal scattering order, 1 or 2', '2')
    .requiredOption('--input <file>', 'JSON file {"signals": [[256 numbers], ...]}')
    .option('--full', 'also output S [signal][channel][time], not only its time average')
    .option('--zscore', 'z-score each signal first ((x - mean) / std, population std); default: use as given')
    .option('--length <int>', 'samples per signal (a power of two)', '256')
    .option('--threads <int>', 'native threads (0 = all cores)', '0')
    .option('--json', 'print JSON only: {"config", "dims", "meta", "features"[, "S"]}')
    .action(
      action(async (opts: WstCliOpts) => {
        const J = intOption('--J', opts.J, 0);
        const Q = parseQ(opts.Q);
        const maxOrder = intOption('--max-order', opts.maxOrder, 0);
        const threads = intOption('--threads', opts.threads, 0);
        const length = intOption('--length', opts.length, 1);
        let plan: WstPlan;
        try {
          plan = WstPlan.create({ J, Q, maxOrder, length });
        } catch (e) {
          if (e instanceof NativeError && e.status === STATUS.INVALID) {
            throw new UsageError(`unsupported configuration: ${e.message.replace(/^swt_wst_plan_new: /, '')}`);
          }
          throw e;
        }
        try {
          const { dims, config } = plan;
          const { flat, count } = readSignals(opts.input, dims.length);
          const res = plan.transform(flat, { zscore: !!opts.zscore, threads });
          const { channels: C, tOut: T } = dims;
          const features = Array.from({ length: count }, (_, i) => Array.from(res.features.subarray(i * C, (i + 1) * C)));
          if (opts.json) {
            const out: Record<string, unknown> = {
              config: {
                J: config.J,
                Q: config.Q,
                max_order: config.maxOrder,
                length: config.length,
                T: config.T,
                average: 'local',
                oversampling: 0,
                pad_mode: 'reflect',
                zscore: !!opts.zscore,
              },
              dims: { n_signals: count, channels: C, t_out: T, per_order: dims.perOrder.slice(0, config.maxOrder + 1) },
              meta: plan.meta,
              features,
            };
            if (opts.full) {
              out.S = Array.from({ length: count }, (_, i) =>
                Array.from({ length: C }, (_, c) => Array.from(res.S.subarray((i * C + c) * T, (i * C + c + 1) * T))),
              );
            }
            process.stdout.write(`${JSON.stringify(out)}\n`);
            return;
          }
          const lines = [
            `wst J=${config.J} Q=(${config.Q.join(',')}) max_order=${config.maxOrder} length=${config.length} T=${config.T}` +
              `${opts.zscore ? ' (z-scored)' : ''}`,
            `${C} channels (${dims.perOrder.slice(0, config.maxOrder + 1).join(' / ')} per order) x ${T} time steps; ${count} signal(s) from ${opts.input}`,
          ];
          const meta = plan.meta;
          for (let i = 0; i < count; i++) {
            const f = features[i];
            const byOrder = [0, 1, 2].slice(0, config.maxOrder + 1).map((o) => f.filter((_, c) => meta[c].order === o).reduce((a, b) => a + b, 0));
            const top = f
              .map((v, c) => [v, c] as const)
              .filter(([, c]) => meta[c].order > 0)
              .sort((a, b) => b[0] - a[0])
              .slice(0, 3);
            lines.push(
              `signal ${i}: S0=${f[0].toPrecision(6)}  energy by order: ${byOrder.map((v) => v.toPrecision(4)).join(' / ')}`,
              ...top.map(([v, c]) => `    row ${c} ${describePath(meta[c])}: ${v.toPrecision(6)}`),
            );
            if (opts.full) {
              for (let c = 0; c < Math.min(C, 3); c++) {
                const row = Array.from(res.S.subarray((i * C + c) * T, (i * C + c) * T + Math.min(T, 8)));
                lines.push(`    S[${c}] = ${row.map((v) => v.toPrecision(5)).join(' ')}${T > 8 ? ' ...' : ''}`);
              }
            }
          }
          lines.push('(use --json for every value)');
          process.stdout.write(`${lines.join('\n')}\n`);
        } finally {
          plan.free();
        }
      }),
    );
}
