// Writes a validation report directory: index.html (self-contained), report.pdf (same content) and
// validation.json (the full result). An existing directory is refused unless `force` is set, and then
// only these three files are replaced (nothing else in the directory is touched).
import { existsSync, mkdirSync, statSync, writeFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import type { ValidationResult } from '../validate.js';
import { renderHtml } from './html.js';
import { buildReport } from './model.js';
import { writePdf } from './pdf.js';
import { InputError } from '../../util/errors.js';

export { NO_TRADE_REPORT_CHARTS, REPORT_CHARTS } from './model.js';

/** The report directory exists and --force was not given (exit code 2). */
export class ReportExistsError extends InputError {
  constructor(readonly dir: string) {
    super(`report directory ${dir} already exists: choose another --out or pass --force to overwrite its report files`);
  }
}

export interface ReportFiles {
  dir: string;
  html: string;
  pdf: string;
  json: string;
  pages: number;
}

/** Refuses an existing directory (a file in the way, or a directory without force). */
export function checkReportDir(dir: string, force: boolean): void {
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw new ReportExistsError(dir);
  if (!force) throw new ReportExistsError(dir);
}

export function reportTitle(r: ValidationResult): string {
  return `swt validation: ${r.policy.name} on ${r.provenance.instrument}`;
}

/** Replacer for the JSON file: no NaN/Infinity (JSON has none), typed arrays as arrays. */
function jsonValue(_k: string, v: unknown): unknown {
  if (typeof v === 'number' && !Number.isFinite(v)) return null;
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>);
  return v;
}

export async function writeReport(r: ValidationResult, dir: string, opts: { force?: boolean; generatedAt?: string } = {}): Promise<ReportFiles> {
  checkReportDir(dir, Boolean(opts.force));
  mkdirSync(dir, { recursive: true });
  const generatedAt = opts.generatedAt ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const blocks = buildReport(r, generatedAt);
  const title = reportTitle(r);
  const html = path.join(dir, 'index.html');
  const pdf = path.join(dir, 'report.pdf');
  const json = path.join(dir, 'validation.json');
  // Each file is written beside its final name and renamed, so a crash never leaves half a report.
  const tmp = (f: string) => `${f}.tmp-${process.pid}`;
  writeFileSync(tmp(html), renderHtml(blocks, title));
  const pages = await writePdf(blocks, tmp(pdf), title);
  writeFileSync(tmp(json), `${JSON.stringify(r, jsonValue, 2)}\n`);
  for (const f of [html, pdf, json]) renameSync(tmp(f), f);
  return { dir, html, pdf, json, pages };
}

