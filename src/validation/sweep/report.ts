// The final HTML report of a sweep (one self-contained page, inline SVG, no external asset): the
// champion and its full validation report, the score of each stage, one effect plot per parameter
// (stage-0 score against the parameter's value, later stages' scores over them) and the templates.
// Written beside sweep.json (the summary and every evaluation) in the sweep's report directory; the
// champion's own validation report (HTML, PDF, JSON) is in champion/.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { SweepSummary } from './summary.js';
import { boxPlotChart, scatterChart, type Chart } from '../report/chart.js';
import { renderHtml } from '../report/html.js';
import { buildReport, fmtNum, fmtPct, FULL_WIDTH, HALF_WIDTH, type Block } from '../report/model.js';
import type { ReportFiles } from '../report/index.js';
import { resultJson } from '../persist.js';
import type { ValidationResult } from '../validate.js';
import type { Evaluation } from './halving.js';
import type { Space } from './space.js';
import type { Template } from './templates.js';

/** Chart ids of a sweep report (besides the champion's validation charts, and one effect-<param> per parameter). */
export const SWEEP_REPORT_CHARTS = ['stage-scores'] as const;

const STAGE_COLORS = ['#9ecae1', '#4292c6', '#08519c', '#08306b', '#d62728'];
const stageColor = (s: number) => STAGE_COLORS[Math.min(s, STAGE_COLORS.length - 1)];

export interface SweepReportInput {
  summary: SweepSummary;
  evaluations: Evaluation[];
  space: Space;
  validation: ValidationResult | null;
  validationReport: ReportFiles | null;
}

const paramsText = (p: Record<string, number | string>) => Object.entries(p).map(([k, v]) => `${k}=${v}`).join(', ');

function effectChart(space: Space, k: string, evals: Evaluation[], stages: number): Chart {
  const def = space.doc.params[k];
  const cats = 'choices' in def ? def.choices.map(String) : undefined;
  const x = (e: Evaluation) => (cats ? cats.indexOf(String(e.params[k])) : Number(e.params[k]));
  // Stage 0 first, so that the survivors' later scores are drawn over it.
  const points = [...evals].sort((a, b) => a.stage - b.stage || a.trial - b.trial).map((e) => ({ x: x(e), y: e.score, color: stageColor(e.stage) }));
  return scatterChart({
    id: `effect-${k}`,
    title: `Score against ${k}`,
    width: HALF_WIDTH,
    height: 190,
    points,
    legend: Array.from({ length: stages }, (_v, s) => ({ label: `stage ${s}`, color: stageColor(s) })),
    xLabel: k,
    yLabel: 'composite score',
    xLog: 'choices' in def ? false : def.log,
    xCategories: cats,
  });
}

function templateRows(t: Template): string[][] {
  if (t.kind === 'choices') {
    return t.values.map((v) => [t.param, String(v.value), fmtPct(v.top_share, 0), fmtPct(v.all_share, 0), '']);
  }
  const d = (v: number) => fmtNum(v, Number.isInteger(v) || Math.abs(v) >= 100 ? 0 : 3);
  return [[t.param, `${d(t.range_min)} .. ${d(t.range_max)}${t.log ? ' (log)' : ''}`, `${d(t.top_p10)} .. ${d(t.top_p90)} (median ${d(t.top_median)})`, `${d(t.all_p10)} .. ${d(t.all_p90)}`, fmtPct(t.top_share_of_range, 0)]];
}

export function sweepBlocks(input: SweepReportInput, generatedAt: string): Block[] {
  const { summary: s, evaluations, space, validation } = input;
  const c = s.champion;
  const blocks: Block[] = [
    {
      t: 'title',
      text: `swt sweep #${s.sweep_id}: ${s.name}`,
      sub: [
        `${s.policy} on ${s.instrument}, out-of-sample ${s.sessions_available} sessions (${space.doc.out_of_sample.from ?? 'start'} .. ${space.doc.out_of_sample.to ?? 'end'}); space ${s.space_file} (hash ${s.space_hash})`,
        `sampler ${space.doc.sampler.kind} (seed ${space.doc.sampler.seed}), stages ${s.stage_sessions.join(' → ')} sessions${s.stage_episodes ? ` after ${s.stage_episodes.join(' → ')} training episodes (preset ${space.doc.train?.preset}, each trial trained on in-sample ${space.doc.in_sample?.from ?? 'start'} .. ${space.doc.in_sample?.to ?? 'end'})` : ''}, keep ${fmtPct(space.doc.keep, 0)} per stage; status ${s.status} (${s.stop_reason}); generated ${generatedAt}`,
      ],
    },
    {
      t: 'p',
      text:
        `${s.trials} trials, ${s.evaluations} evaluations (${s.evaluations_reused} from before a resume), ${fmtNum(s.full_budget_equivalents, 1)} full-budget equivalents ` +
        `(Σ sessions evaluated / ${s.stage_sessions[s.stage_sessions.length - 1]} sessions of the last stage); ${fmtNum(s.trials_per_minute, 1)} evaluations a minute on ${s.workers} worker(s). ` +
        'Scores are the validation composite score (0-100) on out-of-sample sessions only; the sweep selects on them, so the champion\'s score is optimistic: confirm it on later data.',
    },
    { t: 'h2', text: 'Champion' },
    c
      ? {
          t: 'table',
          id: 'champion',
          columns: ['trial', 'parameters', 'stage', 'sessions', 'sweep score', `validation (${c.validated_on === 'holdout' ? 'holdout' : 'out-of-sample'}, all sessions, full settings)`],
          rows: [[String(c.trial), paramsText(c.params) + (c.checkpoint_id ? ` (checkpoint ${c.checkpoint_id})` : ''), String(c.stage), String(c.sessions), `${fmtNum(c.score, 1)} (${c.grade})`, c.validation_score === null ? '—' : `${fmtNum(c.validation_score, 1)} (${c.validation_grade}, ${c.validation_recommendation}), validation #${c.validation_id}`]],
          widths: [40, 175, 40, 50, 70, 140],
          align: ['r', 'l', 'r', 'r', 'r', 'l'],
        }
      : { t: 'p', text: 'No trial was evaluated.' },
    { t: 'h2', text: 'Score of each stage' },
    {
      t: 'table',
      id: 'stages',
      columns: ['stage', 'sessions', 'evaluations', 'best', 'p75', 'median', 'p25', 'worst'],
      rows: s.stages.map((x) => [String(x.stage), String(x.sessions), String(x.evaluations), fmtNum(x.best, 1), fmtNum(x.p75, 1), fmtNum(x.median, 1), fmtNum(x.p25, 1), fmtNum(x.worst, 1)]),
      widths: [45, 60, 70, 60, 60, 60, 60, 60],
      align: ['r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    },
  ];
  const withScores = s.stages.filter((x) => x.evaluations > 0);
  if (withScores.length) {
    const box = (x: (typeof withScores)[number]) => {
      const sc = Float64Array.from(evaluations.filter((e) => e.stage === x.stage).map((e) => e.score)).sort();
      const q = (p: number) => sc[Math.min(sc.length - 1, Math.max(0, Math.round((p / 100) * (sc.length - 1))))];
      return { label: `stage ${x.stage} (${x.sessions})`, p5: q(5), p25: q(25), p50: q(50), p75: q(75), p95: q(95) };
    };
    blocks.push({ t: 'charts', charts: [boxPlotChart({ id: 'stage-scores', title: 'Composite score by stage (sessions)', width: FULL_WIDTH, height: 200, boxes: withScores.map(box), yLabel: 'composite score' })] });
  }
  blocks.push({ t: 'h2', text: 'Parameter effects' });
  blocks.push({ t: 'p', text: 'Each point is one evaluation: stage 0 scores every trial on the same sessions; later stages re-score the survivors on more.' });
  // One block: the charts wrap two to a row, an odd last one stays half width.
  blocks.push({ t: 'charts', charts: space.keys.map((k) => effectChart(space, k, evaluations, s.stage_sessions.length)) });
  blocks.push({ t: 'h2', text: 'Templates: where the top 10% of trials concentrate' });
  blocks.push({
    t: 'p',
    text: `Top decile by stage-0 score (${s.templates[0]?.top_trials ?? 0} of ${s.templates[0]?.all_trials ?? 0} trials): p10 .. p90 of each parameter against all trials; for choices, the share of each value. A small share of the searched range means the best trials agree.`,
  });
  blocks.push({
    t: 'table',
    id: 'templates',
    columns: ['parameter', 'searched range / value', 'top decile', 'all trials', 'share of range'],
    rows: s.templates.flatMap(templateRows),
    widths: [80, 130, 140, 100, 65],
    align: ['l', 'l', 'l', 'l', 'r'],
  });
  if (validation) {
    blocks.push({ t: 'h2', text: 'Champion validation report' });
    const where = c?.validated_on === 'holdout' ? `the holdout (${space.doc.holdout?.from} .. ${space.doc.holdout?.to ?? 'end'}), data the sweep never chose on` : 'the out-of-sample range the sweep chose on (give the space a holdout to confirm on unseen data)';
    blocks.push({ t: 'p', text: `The champion validated on every session of ${where}, with the config's full validation settings (also in champion/index.html and champion/report.pdf).` });
    blocks.push(...buildReport(validation, generatedAt).filter((b) => b.t !== 'pagebreak'));
  }
  return blocks;
}

/** Writes index.html and sweep.json into `dir` (created) and returns the HTML file. */
export function writeSweepReport(dir: string, input: SweepReportInput, generatedAt = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')): string {
  mkdirSync(dir, { recursive: true });
  const html = path.join(dir, 'index.html');
  const json = path.join(dir, 'sweep.json');
  const tmp = (f: string) => `${f}.tmp-${process.pid}`;
  writeFileSync(tmp(html), renderHtml(sweepBlocks(input, generatedAt), `swt sweep #${input.summary.sweep_id}: ${input.summary.name}`, 'swt sweep report · machine-readable summary and every evaluation in sweep.json · the champion\'s validation in champion/'));
  writeFileSync(tmp(json), `${resultJson({ ...input.summary, report: html, evaluations: input.evaluations })}\n`);
  for (const f of [html, json]) renameSync(tmp(f), f);
  return html;
}
