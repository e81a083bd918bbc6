// `swt features …`: build, show, list and drop feature sets.
import type { Command } from 'commander';
import { action, common, instrumentArg, makeContext, parseInteger, printJson, UsageError, type CommonOpts } from './context.js';
import { dropFeatureSet, getFeatureSet, type BuildReport } from '../features/store.js';
import { specFromConfig } from '../features/spec.js';
import { STATUS_NAMES } from '../features/row.js';
import { runFeatureBuild } from '../app/features.js';


export function throughputLine(r: BuildReport): string {
  return r.rows_added === 0
    ? `features ${r.feature_set} (${r.hash}) ${r.instrument}: up to date, ${r.rows_total} rows, nothing to add`
    : `features ${r.feature_set} (${r.hash}) ${r.instrument}: ${r.rows_added} rows added in ${r.seconds.toFixed(1)} s (${r.rows_per_s} rows/s; ` +
        `${r.ok} ok, ${r.warmup} warm-up, ${r.gap} across gaps)${r.resumed_from ? `, resumed from ${r.resumed_from}` : ''}; ${r.columns} columns, ${r.rows_total} rows in total`;
}

export function registerFeatures(program: Command): void {
  const f = program.command('features').description('feature sets: wavelet scattering + time features, precomputed into the store');

  common(f.command('build'))
    .description('compute every missing feature row of an instrument (incremental, resumable after a kill)')
    .requiredOption('--instrument <name>', 'instrument', instrumentArg)
    .option('--set <name>', 'feature set from the config (default features.default_set)')
    .option('--threads <n>', 'native threads (0 = all cores; never changes a result)', parseInteger('--threads', 0))
    .option('--json', 'print the build report as JSON')
    .action(
      action(async (o: CommonOpts & { instrument: string; set?: string; threads?: number }) => {
        const ctx = makeContext(o);
        // A build runs for minutes to hours: other commands get the file between its chunks.
        const store = await ctx.openStore({ hold: 'unit' });
        const set = o.set ?? ctx.config.features.default_set;
        const r = await runFeatureBuild(store, ctx.config, o.instrument, set, { threads: o.threads, quiet: Boolean(o.json) });
        if (o.json) printJson(r);
        else process.stdout.write(`${throughputLine(r)}\n`);
      }),
    );

  common(f.command('show'))
    .description('print the spec of a feature set and a few rows of an instrument')
    .requiredOption('--instrument <name>', 'instrument', instrumentArg)
    .option('--set <name>', 'feature set (default features.default_set)')
    .option('--rows <n>', 'rows to print (the latest ones)', parseInteger('--rows', 1), 5)
    .option('--json', 'print JSON: {"set", "spec", "columns", "rows": [{ts, status, values}]}')
    .action(
      action(async (o: CommonOpts & { instrument: string; set?: string; rows: number }) => {
        const ctx = makeContext(o);
        const store = await ctx.openStore();
        const name = o.set ?? ctx.config.features.default_set;
        const set = await getFeatureSet(store, name);
        if (!set) {
          specFromConfig(ctx.config, name); // a clear error for an unknown name
          throw new UsageError(`feature set "${name}" has not been built yet: run \`swt features build --instrument ${o.instrument} --set ${name}\``);
        }
        const stats = await store.one<{ n: number; ok: number; first: string | null; last: string | null }>(
          `SELECT count(*) AS n, count(*) FILTER (WHERE status = 0) AS ok, strftime(min(ts), '%Y-%m-%dT%H:%M:%SZ') AS first, strftime(max(ts), '%Y-%m-%dT%H:%M:%SZ') AS last
           FROM ${set.table} WHERE instrument = $1`,
          [o.instrument],
        );
        const rows = await store.all<Record<string, unknown>>(
          `SELECT strftime(ts, '%Y-%m-%dT%H:%M:%SZ') AS ts, status, ${set.columns.map((c) => `"${c}"`).join(', ')} FROM ${set.table}
           WHERE instrument = $1 ORDER BY ts DESC LIMIT ${o.rows}`,
          [o.instrument],
        );
        const out = rows.reverse().map((r) => ({ ts: r.ts as string, status: STATUS_NAMES[Number(r.status)] ?? String(r.status), values: set.columns.map((c) => (r[c] == null ? null : Number(r[c]))) }));
        if (o.json) {
          printJson({ set: set.name, hash: set.hash, spec: set.spec, columns: set.columns, instrument: o.instrument, rows_total: Number(stats?.n ?? 0), rows_ok: Number(stats?.ok ?? 0), first: stats?.first, last: stats?.last, rows: out });
          return;
        }
        process.stdout.write(`feature set ${set.name} (hash ${set.hash}, table ${set.table}): ${set.width} columns\n`);
        process.stdout.write(`  spec ${JSON.stringify(set.spec)}\n`);
        process.stdout.write(`  ${o.instrument}: ${stats?.n ?? 0} rows (${stats?.ok ?? 0} ok) ${stats?.first ?? '-'} .. ${stats?.last ?? '-'}\n`);
        const shown = [0, 1, 2, set.columns.length - 4, set.columns.length - 3, set.columns.length - 2, set.columns.length - 1].filter((i, k, a) => i >= 0 && a.indexOf(i) === k);
        process.stdout.write(`  ${'ts'.padEnd(21)} ${'status'.padEnd(7)} ${shown.map((i) => set.columns[i].padStart(13)).join(' ')}\n`);
        for (const r of out) {
          process.stdout.write(`  ${r.ts.padEnd(21)} ${r.status.padEnd(7)} ${shown.map((i) => (r.values[i] == null ? 'NULL' : r.values[i]!.toPrecision(6)).padStart(13)).join(' ')}\n`);
        }
      }),
    );

  common(f.command('sets'))
    .description('list the feature sets stored and defined in the config')
    .option('--json', 'print JSON')
    .action(
      action(async (o: CommonOpts) => {
        const ctx = makeContext(o);
        const store = await ctx.openStore();
        const stored = await store.all<{ name: string; hash: string; width: number; table_name: string }>('SELECT name, hash, width, table_name FROM feature_sets ORDER BY name');
        const configured = Object.keys(ctx.config.features.sets);
        if (o.json) printJson({ stored, configured, default_set: ctx.config.features.default_set });
        else {
          for (const s of stored) process.stdout.write(`${s.name}\thash ${s.hash}\t${s.width} columns\ttable ${s.table_name}\n`);
          process.stdout.write(`configured: ${configured.join(', ')} (default ${ctx.config.features.default_set})\n`);
        }
      }),
    );

  common(f.command('drop'))
    .description('delete a feature set and all its rows')
    .requiredOption('--set <name>', 'feature set to drop')
    .action(
      action(async (o: CommonOpts & { set: string }) => {
        const ctx = makeContext(o);
        const store = await ctx.openStore();
        if (!(await dropFeatureSet(store, o.set))) throw new UsageError(`no stored feature set "${o.set}"`);
        process.stdout.write(`dropped feature set ${o.set}\n`);
      }),
    );
}
