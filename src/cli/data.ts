// `swt data …`: import, synth, check, sessions.
import { Command, Option } from 'commander';
import path from 'node:path';
import { action, common, instrumentArg, makeContext, parseInteger, parseNumber, printJson, UsageError, type CommonOpts } from './context.js';
import { FORMATS, type Format, type SourceZone } from '../data/formats.js';
import { importFiles, type FileImportResult } from '../data/import.js';
import { qualityReport, type QualityReport } from '../data/quality.js';
import { indexSessions, type SessionIndexReport } from '../data/sessions.js';
import { writeSynthCsv, SYNTH_VERSION, type SynthSummary } from '../data/synth.js';
import { synthOptions, type SynthChoice } from '../app/synth.js';
import { weekCalendar } from '../data/calendar.js';
import { parseRange } from '../data/range.js';
import { instrumentSpec } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { fetchCandles } from '../app/fetch.js';
import { oandaClientFromConfig } from '../app/live.js';
import { progress } from '../util/progress.js';


export function zoneFromOpts(tz?: string, utcOffset?: number): SourceZone | undefined {
  if (tz !== undefined && utcOffset !== undefined) throw new UsageError('give either --tz or --utc-offset, not both');
  if (utcOffset !== undefined) {
    if (Math.abs(utcOffset) > 14) throw new UsageError(`--utc-offset must be between -14 and 14 hours, got ${utcOffset}`);
    return { kind: 'offset', hours: utcOffset };
  }
  if (tz !== undefined) {
    if (tz.toUpperCase() === 'UTC') return { kind: 'utc' };
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
    } catch {
      throw new UsageError(`--tz: unknown IANA time zone "${tz}" (e.g. Europe/London, America/New_York, EET)`);
    }
    return { kind: 'iana', zone: tz };
  }
  return undefined;
}

// ---- printers (human output; --json prints the objects as they are) ----

export function printImport(results: FileImportResult[]): void {
  for (const r of results) {
    if (r.status === 'already_imported') {
      process.stdout.write(`${r.file}: already imported (import #${r.import_id}, same sha256): nothing added\n`);
      continue;
    }
    process.stdout.write(
      `${r.file}: import #${r.import_id} (${r.format}, ${r.source_tz}) read ${r.rows_read}, accepted ${r.rows_accepted}, ` +
        `rejected ${r.rows_rejected}, already present ${r.rows_already_present}` +
        (r.duplicates_identical ? `, identical duplicates collapsed ${r.duplicates_identical}` : '') +
        (r.incomplete_skipped ? `, incomplete candles skipped ${r.incomplete_skipped}` : '') +
        (r.blank_lines ? `, blank lines ${r.blank_lines}` : '') +
        `\n  range ${r.first ?? '-'} .. ${r.last ?? '-'}\n`,
    );
    for (const [reason, n] of Object.entries(r.rejected_by_reason)) process.stdout.write(`  rejected ${n}: ${reason}\n`);
  }
}

/** Warnings go to stderr whatever the output mode, so --json users see them too. */
export function warnImport(results: FileImportResult[]): void {
  for (const r of results) {
    if (r.rows_rejected) process.stderr.write(`swt: warning: ${r.rows_rejected} rows of ${r.file} were rejected; see table bars_rejected (file, line, reason)\n`);
    if (r.out_of_order_lines) process.stderr.write(`swt: warning: ${r.file} is not sorted by time (${r.out_of_order_lines} lines go back in time, first at line ${r.first_out_of_order_line}); bars were stored in time order\n`);
  }
}

export function printQuality(q: QualityReport): void {
  const lines = [
    `data quality: ${q.instrument}  ${q.first} .. ${q.last}`,
    `  bars                 ${q.bars}`,
    `  coverage             ${(100 * q.coverage).toFixed(3)}% of ${q.expected_weekday_minutes} weekday minutes`,
    `  range (pips)         mean ${q.range_pips.mean.toFixed(2)}  median ${q.range_pips.median.toFixed(2)}  p99 ${q.range_pips.p99.toFixed(2)}  max ${q.range_pips.max.toFixed(2)}`,
    `  range > ${q.range_threshold_pips} pips     ${(100 * q.share_range_over_12_pips).toFixed(2)}% of bars`,
    `  gaps > ${q.max_gap_minutes} min        ${q.gaps_over_limit.count}${q.gaps_over_limit.longest.length ? ` (longest ${q.gaps_over_limit.longest[0].missing_minutes} min after ${q.gaps_over_limit.longest[0].after})` : ''}`,
    `  weekend closures     ${q.weekend_closures}${q.weekend_closure_hours.min !== null ? ` (${q.weekend_closure_hours.min}-${q.weekend_closure_hours.max} h)` : ''}`,
    `  bars in weekend      ${q.bars_in_weekend}`,
    `  duplicates           ${q.duplicates}`,
    `  OHLC errors          ${q.ohlc_errors}`,
    `  rejected rows        ${q.rejected_rows}`,
    `  verdict              ${q.verdict}`,
    ...q.reasons.map((r) => `    - ${r}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

export function printSessions(s: SessionIndexReport): void {
  process.stdout.write(
    [
      `sessions: ${s.instrument}, ${s.length} bars, max gap ${s.max_gap} min`,
      `  valid session starts  ${s.sessions} (${s.first_start ?? '-'} .. ${s.last_start ?? '-'})`,
      `  bars covered          ${s.bars_covered} of ${s.bars} (${(100 * s.share_bars_covered).toFixed(2)}%) in ${s.runs} unbroken runs`,
      `  starts rejected       ${s.rejected_starts.total}: weekend closure ${s.rejected_starts.weekend_closure}, gap over max ${s.rejected_starts.gap_over_max}, ` +
        `bar in weekend ${s.rejected_starts.bar_in_weekend}, end of data ${s.rejected_starts.end_of_data}`,
    ].join('\n') + '\n',
  );
}


export interface SynthCliOpts extends CommonOpts, SynthChoice {
  import?: boolean;
}


export function registerData(program: Command): void {
  const data = program.command('data').description('M1 bars: import, synthesise, check quality, index sessions');

  common(data.command('import'))
    .description('import M1 bar files into the store (DuckDB parses them; bad rows go to bars_rejected with file, line and reason)')
    .argument('<files...>', 'input files (.gz read directly)')
    .requiredOption('--instrument <name>', 'instrument name, OANDA style (e.g. GBP_JPY)', instrumentArg)
    .addOption(new Option('--format <format>', 'input format').choices([...FORMATS]).makeOptionMandatory())
    .option('--tz <zone>', "IANA zone of the file's timestamps (e.g. Europe/Athens); default per format: csv/dukascopy UTC, histdata EST (UTC-5, no DST)")
    .option('--utc-offset <hours>', "fixed offset of the file's timestamps from UTC in hours (mt4 server time, e.g. 3)", parseNumber('--utc-offset'))
    .addOption(new Option('--price <component>', 'oanda: which candle prices to import').choices(['mid', 'bid', 'ask']).default('mid'))
    .option('--strict', 'fail the whole import (and change nothing) if any row is rejected or the file is unsorted')
    .option('--json', 'print JSON: {"imports": [per-file results]}')
    .addHelpText(
      'after',
      `
Formats:
  csv        header ts,open,high,low,close,volume; ts ISO-8601 (Z/offset honoured) or epoch ms
  histdata   HistData ASCII M1: 20160422 195300;o;h;l;c;v (EST without DST unless --tz/--utc-offset)
  mt4        MetaTrader export: 2016.04.22,19:53,o,h,l,c,v (broker server time: --utc-offset or --tz required)
  dukascopy  Dukascopy CSV export: "Gmt time,Open,High,Low,Close,Volume" (dd.mm.yyyy HH:MM:SS.mmm)
  oanda      OANDA v20 candles JSON; only complete:true candles; "line" in rejections = candle index

Re-importing the same file adds nothing. Rejected rows (malformed, OHLC inconsistent, non-positive,
conflicting duplicates) are kept in bars_rejected. Exit codes: 0 ok, 1 failure, 2 bad input.`,
    )
    .action(
      action(async (files: string[], o: CommonOpts & { instrument: string; format: Format; tz?: string; utcOffset?: number; price: 'mid' | 'bid' | 'ask'; strict?: boolean }) => {
        const ctx = makeContext(o);
        const zone = zoneFromOpts(o.tz, o.utcOffset);
        const store = await ctx.openStore();
        const results = await importFiles(store, files, { instrument: o.instrument, format: o.format, zone, strict: o.strict, price: o.price });
        warnImport(results);
        if (o.json) printJson({ imports: results });
        else printImport(results);
      }),
    );

  common(data.command('fetch'))
    .description('download complete M1 candles from OANDA (pages of 5000, within the rate limits) and import them; incremental')
    .requiredOption('--instrument <name>', 'instrument, OANDA style (e.g. GBP_JPY)', instrumentArg)
    .option('--from <date>', 'start (YYYY-MM-DD or ISO, UTC); default: after the last stored bar')
    .option('--to <date>', 'end (inclusive date or ISO timestamp); default: now')
    .addOption(new Option('--price <p>', 'candle prices: M (mid bars); BA (mid bars plus each bar\'s recorded bid/ask spread, for env.spread: recorded)').choices(['M', 'BA']).default('M'))
    .addOption(new Option('--mode <m>', 'OANDA host').choices(['practice', 'live']).default('practice'))
    .option('--json', 'print JSON: {"fetch": {pages, candles_served, rows_accepted, …}}')
    .action(
      action(async (o: CommonOpts & { instrument: string; from?: string; to?: string; price: 'M' | 'BA'; mode: 'practice' | 'live' }) => {
        const ctx = makeContext(o);
        const range = parseRange(o.from, o.to);
        const client = oandaClientFromConfig(ctx.config, o.mode);
        const store = await ctx.openStore({ hold: 'unit' });
        let bar: ReturnType<typeof progress> | null = null;
        let total = 0;
        try {
          const r = await fetchCandles(store, client, {
            instrument: o.instrument,
            from: range.from,
            to: range.to,
            price: o.price,
            onPage: (p) => {
              if (!bar) {
                total = Math.ceil((p.to - p.cursor) / 60_000) + p.fetched;
                bar = progress('fetch', total, { quiet: Boolean(o.json) });
              }
              bar.update(p.fetched);
            },
          });
          (bar as ReturnType<typeof progress> | null)?.stop();
          if (o.json) printJson({ fetch: r });
          else process.stdout.write(`fetched ${r.instrument} ${r.from} .. ${r.to} (price ${r.price}): ${r.pages} page(s), ${r.candles_complete} complete candles, ${r.rows_accepted} new bars, ${r.rows_already_present} already stored, ${r.rows_rejected} rejected\n`);
        } finally {
          await client.close();
        }
      }),
    );

  common(data.command('synth'))
    .description('generate the deterministic synthetic GBP/JPY-like M1 series (the embedded default dataset) and import it')
    .option('--instrument <name>', 'instrument to store it as (default: synth.instrument, SYN_GBPJPY)', instrumentArg)
    .option('--from <date>', 'first day, YYYY-MM-DD (default: synth.from)')
    .option('--to <date>', 'last day, inclusive, YYYY-MM-DD (default: synth.to)')
    .option('--seed <n>', 'random seed (same seed, same bars)', parseInteger('--seed'))
    .option('--edge', 'plant a learnable mean-reversion pattern of known strength (see --edge-strength)')
    .option('--edge-strength <pips>', 'edge: stationary std-dev of the mean-reverting deviation, pips (default 12)', parseNumber('--edge-strength', 0))
    .option('--edge-half-life <minutes>', 'edge: half-life of the deviation, minutes (default 30)', parseNumber('--edge-half-life', 1))
    .option('--out <file>', 'CSV file to write (default data/synth/<instrument>_M1_<from>_<to>_seed<seed>[_edge]_v<generator version>.csv)')
    .option('--no-import', 'only write the CSV file')
    .option('--json', 'print JSON: {"synth": summary, "file", "imports": [...]}')
    .action(
      action(async (o: SynthCliOpts) => {
        const ctx = makeContext(o);
        const so = synthOptions(ctx.config, o);
        const summary: SynthSummary = writeSynthCsv(so.file, so.gen);
        let imports: FileImportResult[] = [];
        if (o.import !== false) {
          const store = await ctx.openStore();
          imports = await importFiles(store, [so.file], { instrument: so.instrument, format: 'csv' });
          warnImport(imports);
        }
        if (o.json) printJson({ instrument: so.instrument, file: so.file, synth: summary, imports });
        else {
          process.stdout.write(
            `synthetic ${so.instrument}: ${summary.bars} bars ${summary.first} .. ${summary.last} (seed ${so.gen.seed}, ${summary.spikes} spikes, ${summary.gaps} short gaps${summary.edge ? `, edge ${summary.edge.strength_pips} pips / ${summary.edge.half_life_minutes} min` : ''}) → ${so.file}\n`,
          );
          if (imports.length) printImport(imports);
        }
      }),
    );

  common(data.command('check'))
    .description('data-quality report: coverage, bar ranges, gaps, weekend closures, duplicates, OHLC errors, rejections, verdict')
    .requiredOption('--instrument <name>', 'instrument', instrumentArg)
    .option('--from <date>', 'start (YYYY-MM-DD or ISO timestamp, UTC)')
    .option('--to <date>', 'end (inclusive date or ISO timestamp, UTC)')
    .option('--json', 'print the report as JSON (fields documented in the README)')
    .option('--fail-on <verdict>', 'exit 1 when the verdict is at least this bad (FAIL or WARN)')
    .action(
      action(async (o: CommonOpts & { instrument: string; from?: string; to?: string; failOn?: string }) => {
        const ctx = makeContext(o);
        const range = parseRange(o.from, o.to);
        const store = await ctx.openStore();
        const q = await qualityReport(store, ctx.config, o.instrument, range);
        if (o.json) printJson(q);
        else printQuality(q);
        const failOn = o.failOn?.toUpperCase();
        if (failOn && failOn !== 'FAIL' && failOn !== 'WARN') throw new UsageError(`--fail-on must be FAIL or WARN, got "${o.failOn}"`);
        if ((failOn === 'FAIL' && q.verdict === 'FAIL') || (failOn === 'WARN' && q.verdict !== 'PASS')) process.exitCode = 1;
      }),
    );

  common(data.command('sessions'))
    .description('index every valid session start (length consecutive bars, no gap over max-gap, no weekend) into `sessions`')
    .requiredOption('--instrument <name>', 'instrument', instrumentArg)
    .option('--length <bars>', 'bars per session (default data.session_length, 360)', parseInteger('--length', 2))
    .option('--max-gap <minutes>', 'largest allowed gap of missing minutes inside a session (default data.max_gap_minutes, 10)', parseInteger('--max-gap', 0))
    .option('--json', 'print the index report as JSON')
    .action(
      action(async (o: CommonOpts & { instrument: string; length?: number; maxGap?: number }) => {
        const ctx = makeContext(o);
        const store = await ctx.openStore();
        const r = await indexSessions(store, ctx.config, o.instrument, o.length ?? ctx.config.data.session_length, o.maxGap ?? ctx.config.data.max_gap_minutes);
        if (o.json) printJson(r);
        else printSessions(r);
      }),
    );
}
