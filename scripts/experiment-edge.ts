// npm run experiment:edge — the full-size version of issue 11's acceptance 1–2, over several seeds:
// for each seed, the planted-edge and the edge-free synthetic series; MuZero trained (`--preset`,
// default test) on the first 75% for at most --minutes; then, out of sample on the last 25%, the agent
// (best checkpoint) beside `linear` and walk-forward `mean-reversion`. Writes a summary table (Markdown
// and JSON) under reports/experiment-edge/. Long: minutes per seed and series; never part of npm test.
//   npm run experiment:edge -- [--seeds 1,2,3] [--minutes 15] [--preset test] [--from 2022-01-03] [--to 2025-08-29]
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const seeds = arg('seeds', '1,2,3').split(',').map(Number);
const minutes = arg('minutes', '15');
const preset = arg('preset', 'test');
const from = arg('from', '2022-01-03');
const to = arg('to', '2025-08-29');
const out = path.resolve('reports', 'experiment-edge');
mkdirSync(out, { recursive: true });

function swt(args: string[], env: Record<string, string>): string {
  const r = spawnSync(process.execPath, [path.resolve('bin', 'swt.js'), ...args], { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`swt ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

const split = new Date(Date.parse(from) + 0.75 * (Date.parse(to) - Date.parse(from))).toISOString().slice(0, 10);
const rows: Array<Record<string, unknown>> = [];
for (const seed of seeds) {
  for (const edge of [true, false]) {
    const name = `${edge ? 'edge' : 'flat'}-seed${seed}`;
    const dir = path.join(out, name);
    mkdirSync(dir, { recursive: true });
    const db = path.join(dir, 'store.duckdb');
    const env = { SWT_CHECKPOINTS__DIR: path.join(dir, 'checkpoints'), SWT_LOG__DIR: path.join(dir, 'logs') };
    const inst = 'SYN_GBPJPY';
    const t0 = Date.now();
    swt(['data', 'synth', '--from', from, '--to', to, '--seed', String(seed), ...(edge ? ['--edge'] : []), '--out', path.join(dir, 'bars.csv'), '--db', db], env);
    swt(['data', 'sessions', '--instrument', inst, '--db', db], env);
    swt(['features', 'build', '--instrument', inst, '--db', db], env);
    const train = JSON.parse(swt(['train', '--preset', preset, '--instrument', inst, '--to', split, '--max-minutes', minutes, '--seed', String(seed), '--db', db, '--json'], env)) as Record<string, unknown>;
    const v = JSON.parse(
      swt(['validate', '--policy', 'muzero:checkpoint=best', '--policy', 'linear', '--policy', 'mean-reversion', '--walk-forward', '--from', split, '--instrument', inst, '--seed', String(seed), '--out', path.join(dir, 'reports'), '--force', '--db', db, '--json'], env),
    ) as { validations: Array<{ key: string; result: { metrics: Record<string, number | null>; grade: { recommendation: string; letter: string }; walkforward: { oos_net_pips: number; efficiency: number | null } | null } }> };
    for (const x of v.validations) {
      rows.push({
        series: edge ? 'planted edge' : 'edge-free',
        seed,
        policy: x.key,
        grade: `${x.result.grade.recommendation} (${x.result.grade.letter})`,
        trades: x.result.metrics.trades,
        net_pips: x.result.metrics.net_pips,
        expectancy: x.result.metrics.expectancy,
        sqn: x.result.metrics.sqn,
        wf_oos_net_pips: x.result.walkforward?.oos_net_pips ?? null,
        wf_efficiency: x.result.walkforward?.efficiency ?? null,
        train_env_steps: train.env_steps,
        minutes: (Date.now() - t0) / 60_000,
      });
    }
    process.stderr.write(`${name}: done in ${((Date.now() - t0) / 60_000).toFixed(1)} min\n`);
  }
}
const fmt = (x: unknown) => (typeof x === 'number' ? (Number.isInteger(x) ? String(x) : x.toFixed(2)) : String(x ?? '-'));
const cols = Object.keys(rows[0] ?? {});
const md = [`| ${cols.join(' | ')} |`, `| ${cols.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${cols.map((c) => fmt(r[c])).join(' | ')} |`)].join('\n');
writeFileSync(path.join(out, 'summary.md'), `# experiment:edge (preset ${preset}, ${minutes} min per training, ${from}..${to}, test from ${split})\n\n${md}\n`);
writeFileSync(path.join(out, 'summary.json'), JSON.stringify({ preset, minutes: Number(minutes), from, to, test_from: split, rows }, null, 2));
process.stdout.write(`${md}\n\nreports: ${out}\n`);
