// A tiny chart module: each chart is computed once as a list of drawing primitives in its own
// coordinate box (points, y down), then rendered to SVG (svg.ts) or onto a PDF page (pdf.ts). Both
// renderers draw the same geometry, so the HTML and the PDF charts match.

export type Anchor = 'start' | 'middle' | 'end';

export type Prim =
  | { k: 'line'; x1: number; y1: number; x2: number; y2: number; stroke: string; width: number; dash?: number[] }
  | { k: 'polyline'; pts: number[]; stroke: string; width: number; dash?: number[] }
  | { k: 'polygon'; pts: number[]; fill: string; opacity: number }
  | { k: 'rect'; x: number; y: number; w: number; h: number; fill: string | null; stroke: string | null; width: number; opacity?: number }
  | { k: 'text'; x: number; y: number; text: string; size: number; anchor: Anchor; color: string; bold?: boolean; rotate?: number };

export interface Chart {
  /** Stable id, rendered as data-chart on the SVG element. */
  id: string;
  title: string;
  width: number;
  height: number;
  prims: Prim[];
}

export const COLORS = {
  axis: '#444444',
  grid: '#e3e3e3',
  text: '#222222',
  muted: '#666666',
  band: '#9ecae1',
  median: '#08519c',
  best: '#2ca02c',
  worst: '#d62728',
  bar: '#6baed6',
  marker: '#d62728',
  box: '#c6dbef',
  line: '#08519c',
  zero: '#999999',
} as const;

const FONT = 9;
/** Helvetica's average glyph width is about 0.52 em: enough for layout (legends, tick labels). */
export const textWidth = (s: string, size: number) => s.length * size * 0.52;

// ------------------------------------------------------------------------------------------- scales

export interface Scale {
  (v: number): number;
  ticks: number[];
  label: (v: number) => string;
  log: boolean;
}

function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const r = raw / mag;
  return (r <= 1 ? 1 : r <= 2 ? 2 : r <= 2.5 ? 2.5 : r <= 5 ? 5 : 10) * mag;
}

export function formatTick(v: number, step: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-4) return v.toExponential(1).replace('e+', 'e');
  // As many decimals as the step needs (0.025 needs 3), never more than 6.
  let decimals = 0;
  while (decimals < 6 && Math.abs(step * 10 ** decimals - Math.round(step * 10 ** decimals)) > 1e-6 * step * 10 ** decimals) decimals++;
  return v.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/** Linear scale from [lo, hi] (extended to nice ticks) to [p0, p1]. */
export function linearScale(lo: number, hi: number, p0: number, p1: number, ticks = 5, fmt?: (v: number) => string): Scale {
  if (!(hi > lo)) {
    const w = Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 1;
    lo -= w;
    hi += w;
  }
  const step = niceStep(hi - lo, ticks);
  const a = Math.floor(lo / step + 1e-9) * step;
  const b = Math.ceil(hi / step - 1e-9) * step;
  const f = ((v: number) => p0 + ((v - a) / (b - a)) * (p1 - p0)) as Scale;
  f.ticks = [];
  for (let v = a; v <= b + step * 1e-6; v += step) f.ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  f.label = fmt ?? ((v: number) => formatTick(v, step));
  f.log = false;
  return f;
}

/** Base-10 log scale (positive values) from [lo, hi] to [p0, p1], ticks at 1-2-5 steps per decade. */
export function logScale(lo: number, hi: number, p0: number, p1: number): Scale {
  const a = Math.floor(Math.log10(lo));
  const b = Math.ceil(Math.log10(hi));
  const la = Math.max(a, b - 12);
  const f = ((v: number) => p0 + ((Math.log10(Math.max(v, 10 ** la)) - la) / (b - la || 1)) * (p1 - p0)) as Scale;
  const decades = b - la;
  const mult = decades <= 2 ? [1, 2, 5] : decades <= 5 ? [1, 3] : [1];
  f.ticks = [];
  for (let d = la; d <= b; d++) for (const m of mult) if (m * 10 ** d <= 10 ** b * 1.0001) f.ticks.push(m * 10 ** d);
  f.label = (v: number) => (v >= 1000 || v < 0.01 ? v.toExponential(0).replace('e+', 'e') : String(Number(v.toPrecision(2))));
  f.log = true;
  return f;
}

// ------------------------------------------------------------------------------------------- frame

export interface Frame {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

interface AxesOptions {
  xLabel: string;
  yLabel: string;
  xTickLabels?: Array<{ at: number; text: string }>;
}

function text(x: number, y: number, s: string, opts: Partial<Extract<Prim, { k: 'text' }>> = {}): Prim {
  return { k: 'text', x, y, text: s, size: opts.size ?? FONT, anchor: opts.anchor ?? 'start', color: opts.color ?? COLORS.text, bold: opts.bold, rotate: opts.rotate };
}

function axes(prims: Prim[], fr: Frame, xs: Scale | null, ys: Scale, o: AxesOptions): void {
  for (const t of ys.ticks) {
    const y = ys(t);
    if (y < fr.y0 - 0.5 || y > fr.y1 + 0.5) continue;
    prims.push({ k: 'line', x1: fr.x0, y1: y, x2: fr.x1, y2: y, stroke: COLORS.grid, width: 0.5 });
    prims.push(text(fr.x0 - 4, y + 3, ys.label(t), { anchor: 'end', size: 8, color: COLORS.muted }));
  }
  if (xs) {
    for (const t of xs.ticks) {
      const x = xs(t);
      if (x < fr.x0 - 0.5 || x > fr.x1 + 0.5) continue;
      prims.push({ k: 'line', x1: x, y1: fr.y1, x2: x, y2: fr.y1 + 3, stroke: COLORS.axis, width: 0.6 });
      prims.push(text(x, fr.y1 + 12, xs.label(t), { anchor: 'middle', size: 8, color: COLORS.muted }));
    }
  }
  for (const t of o.xTickLabels ?? []) prims.push(text(t.at, fr.y1 + 12, t.text, { anchor: 'middle', size: 8, color: COLORS.muted }));
  prims.push({ k: 'line', x1: fr.x0, y1: fr.y1, x2: fr.x1, y2: fr.y1, stroke: COLORS.axis, width: 0.8 });
  prims.push({ k: 'line', x1: fr.x0, y1: fr.y0, x2: fr.x0, y2: fr.y1, stroke: COLORS.axis, width: 0.8 });
  if (o.xLabel) prims.push(text((fr.x0 + fr.x1) / 2, fr.y1 + 25, o.xLabel, { anchor: 'middle', size: 8.5 }));
  prims.push(text(fr.x0 - 38, (fr.y0 + fr.y1) / 2, o.yLabel, { anchor: 'middle', size: 8.5, rotate: -90 }));
}

export interface LegendItem {
  label: string;
  color: string;
  kind: 'line' | 'band' | 'marker' | 'dashed';
}

/** Splits legend items into rows that fit `maxWidth`. */
function legendRows(items: LegendItem[], maxWidth: number): LegendItem[][] {
  const rows: LegendItem[][] = [];
  let row: LegendItem[] = [];
  let w = 0;
  for (const it of items) {
    const iw = 18 + textWidth(it.label, 8) + 12;
    if (row.length > 0 && w + iw > maxWidth) {
      rows.push(row);
      row = [];
      w = 0;
    }
    row.push(it);
    w += iw;
  }
  if (row.length) rows.push(row);
  return rows;
}

const LEGEND_ROW = 11;

/** Legend rows under the title, left aligned in the plot frame. */
function legend(prims: Prim[], x: number, rows: LegendItem[][]): void {
  rows.forEach((items, r) => {
    const y = 29 + r * LEGEND_ROW;
    let cx = x;
    for (const it of items) {
      if (it.kind === 'band') prims.push({ k: 'rect', x: cx, y: y - 6, w: 14, h: 7, fill: it.color, stroke: null, width: 0, opacity: 0.7 });
      else prims.push({ k: 'line', x1: cx, y1: y - 2.5, x2: cx + 14, y2: y - 2.5, stroke: it.color, width: it.kind === 'line' ? 1.6 : 1.2, dash: it.kind === 'line' ? undefined : [3, 2] });
      prims.push(text(cx + 18, y, it.label, { size: 8 }));
      cx += 18 + textWidth(it.label, 8) + 12;
    }
  });
}

const FRAME_X0 = 52;

function frameFor(width: number, height: number, legendRowCount: number): Frame {
  return { x0: FRAME_X0, y0: legendRowCount > 0 ? 27 + LEGEND_ROW * legendRowCount : 26, x1: width - 12, y1: height - 34 };
}

function legendFor(width: number, items: LegendItem[]): LegendItem[][] {
  return items.length ? legendRows(items, width - FRAME_X0 - 12) : [];
}

function titlePrim(title: string): Prim {
  return text(6, 13, title, { size: 10.5, bold: true });
}

function extent(arrays: ArrayLike<number>[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) {
      const v = a[i];
      if (!Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (lo === Infinity) return [0, 1];
  return [lo, hi];
}

function pts(xs: readonly number[], ys: readonly number[], sx: Scale, sy: Scale): number[] {
  const out: number[] = [];
  for (let i = 0; i < xs.length; i++) out.push(round(sx(xs[i])), round(sy(ys[i])));
  return out;
}

const round = (v: number) => Math.round(v * 100) / 100;

// ------------------------------------------------------------------------------------------- charts

export interface Series {
  label: string;
  y: readonly number[];
  color: string;
  width?: number;
  dash?: number[];
}

export interface LineChartInput {
  id: string;
  title: string;
  width: number;
  height: number;
  x: readonly number[];
  series: Series[];
  band?: { lo: readonly number[]; hi: readonly number[]; label: string; color: string };
  xLabel: string;
  yLabel: string;
  /** 'auto': log when every value is positive and they span more than a factor of 30. */
  yLog?: boolean | 'auto';
  /** A horizontal reference line (e.g. equity 1 or 0 pips). */
  ref?: number;
}

export function lineChart(c: LineChartInput): Chart {
  const prims: Prim[] = [titlePrim(c.title)];
  const items: LegendItem[] = [];
  if (c.band) items.push({ label: c.band.label, color: c.band.color, kind: 'band' });
  for (const s of c.series) items.push({ label: s.label, color: s.color, kind: s.dash ? 'dashed' : 'line' });
  const rows = legendFor(c.width, items);
  const fr = frameFor(c.width, c.height, rows.length);
  const all = [...c.series.map((s) => s.y), ...(c.band ? [c.band.lo, c.band.hi] : [])];
  let [lo, hi] = extent(all);
  if (c.ref !== undefined) {
    lo = Math.min(lo, c.ref);
    hi = Math.max(hi, c.ref);
  }
  const useLog = c.yLog === true || (c.yLog === 'auto' && lo > 0 && hi / lo > 30);
  const sy = useLog ? logScale(lo, hi, fr.y1, fr.y0) : linearScale(lo, hi, fr.y1, fr.y0);
  const [xlo, xhi] = extent([c.x]);
  const sx = linearScale(xlo, xhi, fr.x0, fr.x1, 6);
  // The nice x scale may extend past the data: clip ticks to the data range.
  sx.ticks = sx.ticks.filter((t) => t >= xlo - 1e-9 && t <= xhi + 1e-9);
  const sxData = ((v: number) => fr.x0 + ((v - xlo) / (xhi - xlo || 1)) * (fr.x1 - fr.x0)) as Scale;
  sxData.ticks = sx.ticks;
  sxData.label = sx.label;
  sxData.log = false;
  axes(prims, fr, sxData, sy, { xLabel: c.xLabel, yLabel: c.yLabel + (useLog ? ' (log scale)' : '') });
  if (c.ref !== undefined) prims.push({ k: 'line', x1: fr.x0, y1: sy(c.ref), x2: fr.x1, y2: sy(c.ref), stroke: COLORS.zero, width: 0.8, dash: [2, 2] });
  if (c.band) {
    const upper = pts(c.x, c.band.hi, sxData, sy);
    const lower = pts(c.x, c.band.lo, sxData, sy);
    const poly = [...upper];
    for (let i = lower.length - 2; i >= 0; i -= 2) poly.push(lower[i], lower[i + 1]);
    prims.push({ k: 'polygon', pts: poly, fill: c.band.color, opacity: 0.55 });
  }
  for (const s of c.series) prims.push({ k: 'polyline', pts: pts(c.x, s.y, sxData, sy), stroke: s.color, width: s.width ?? 1.4, dash: s.dash });
  legend(prims, fr.x0 + 2, rows);
  return { id: c.id, title: c.title, width: c.width, height: c.height, prims };
}

export interface HistogramInput {
  id: string;
  title: string;
  width: number;
  height: number;
  edges: readonly number[];
  counts: readonly number[];
  marker?: { value: number; label: string };
  xLabel: string;
  /** Display transform of the x values (e.g. fraction → %). */
  xScale?: number;
}

export function histogramChart(c: HistogramInput): Chart {
  const prims: Prim[] = [titlePrim(c.title)];
  const rows = legendFor(c.width, c.marker ? [{ label: c.marker.label, color: COLORS.marker, kind: 'marker' }] : []);
  const fr = frameFor(c.width, c.height, rows.length);
  const k = c.xScale ?? 1;
  const e = c.edges.map((v) => v * k);
  let xlo = e[0];
  let xhi = e[e.length - 1];
  if (c.marker) {
    xlo = Math.min(xlo, c.marker.value * k);
    xhi = Math.max(xhi, c.marker.value * k);
  }
  const sx = linearScale(xlo, xhi, fr.x0, fr.x1, 5);
  const ymax = Math.max(1, ...c.counts);
  const sy = linearScale(0, ymax, fr.y1, fr.y0, 4);
  axes(prims, fr, sx, sy, { xLabel: c.xLabel, yLabel: 'curves' });
  for (let i = 0; i < c.counts.length; i++) {
    if (c.counts[i] === 0) continue;
    const x = sx(e[i]);
    const w = Math.max(0.5, sx(e[i + 1]) - x - 0.6);
    const y = sy(c.counts[i]);
    prims.push({ k: 'rect', x: round(x), y: round(y), w: round(w), h: round(fr.y1 - y), fill: COLORS.bar, stroke: null, width: 0 });
  }
  if (c.marker) {
    const x = sx(c.marker.value * k);
    prims.push({ k: 'line', x1: x, y1: fr.y0, x2: x, y2: fr.y1, stroke: COLORS.marker, width: 1.4, dash: [4, 2] });
    legend(prims, fr.x0 + 2, rows);
  }
  return { id: c.id, title: c.title, width: c.width, height: c.height, prims };
}

export interface BoxStats {
  label: string;
  p5: number;
  p25: number;
  p50: number;
  p75: number;
  p95: number;
}

export interface BoxPlotInput {
  id: string;
  title: string;
  width: number;
  height: number;
  boxes: BoxStats[];
  yLabel: string;
  yScale?: number;
  /** Horizontal reference (e.g. the gate), with its label. */
  ref?: { value: number; label: string };
}

export function boxPlotChart(c: BoxPlotInput): Chart {
  const prims: Prim[] = [titlePrim(c.title)];
  const items: LegendItem[] = [
    { label: 'box p25-p75, median', color: COLORS.median, kind: 'line' },
    { label: 'whiskers p5-p95', color: COLORS.axis, kind: 'line' },
  ];
  if (c.ref) items.push({ label: c.ref.label, color: COLORS.marker, kind: 'marker' });
  const rows = legendFor(c.width, items);
  const fr = frameFor(c.width, c.height, rows.length);
  fr.y1 = c.height - 44; // room for two-line category labels
  const k = c.yScale ?? 1;
  const vals = c.boxes.flatMap((b) => [b.p5 * k, b.p95 * k]);
  if (c.ref) vals.push(c.ref.value * k);
  const [lo, hi] = extent([vals]);
  const sy = linearScale(lo, hi, fr.y1, fr.y0);
  const n = Math.max(1, c.boxes.length);
  const slot = (fr.x1 - fr.x0) / n;
  axes(prims, fr, null, sy, { xLabel: '', yLabel: c.yLabel });
  if (c.ref) prims.push({ k: 'line', x1: fr.x0, y1: sy(c.ref.value * k), x2: fr.x1, y2: sy(c.ref.value * k), stroke: COLORS.marker, width: 1, dash: [4, 2] });
  c.boxes.forEach((b, i) => {
    const cx = fr.x0 + slot * (i + 0.5);
    const w = Math.min(34, slot * 0.55);
    const y = (v: number) => round(sy(v * k));
    prims.push({ k: 'line', x1: cx, y1: y(b.p5), x2: cx, y2: y(b.p95), stroke: COLORS.axis, width: 0.8 });
    prims.push({ k: 'line', x1: cx - w / 4, y1: y(b.p5), x2: cx + w / 4, y2: y(b.p5), stroke: COLORS.axis, width: 0.8 });
    prims.push({ k: 'line', x1: cx - w / 4, y1: y(b.p95), x2: cx + w / 4, y2: y(b.p95), stroke: COLORS.axis, width: 0.8 });
    prims.push({ k: 'rect', x: round(cx - w / 2), y: y(b.p75), w: round(w), h: Math.max(0.8, y(b.p25) - y(b.p75)), fill: COLORS.box, stroke: COLORS.median, width: 0.8 });
    prims.push({ k: 'line', x1: cx - w / 2, y1: y(b.p50), x2: cx + w / 2, y2: y(b.p50), stroke: COLORS.median, width: 1.6 });
    // Category label on up to two lines (scenario names are snake_case).
    const words = b.label.split(/[_ ]/);
    const half = Math.ceil(words.length / 2);
    const l1 = words.slice(0, half).join(' ');
    const l2 = words.slice(half).join(' ');
    prims.push(text(cx, fr.y1 + 11, l1, { anchor: 'middle', size: 7.5 }));
    if (l2) prims.push(text(cx, fr.y1 + 20, l2, { anchor: 'middle', size: 7.5 }));
  });
  legend(prims, fr.x0 + 2, rows);
  return { id: c.id, title: c.title, width: c.width, height: c.height, prims };
}

export interface BarChartInput {
  id: string;
  title: string;
  width: number;
  height: number;
  labels: string[];
  values: number[];
  yLabel: string;
  /** Text over each bar. */
  valueLabels?: string[];
}

export function barChart(c: BarChartInput): Chart {
  const prims: Prim[] = [titlePrim(c.title)];
  const fr = frameFor(c.width, c.height, 0);
  fr.y0 += 8; // room for the value labels over the bars
  const sy = linearScale(0, Math.max(1e-12, ...c.values), fr.y1, fr.y0, 4);
  const n = Math.max(1, c.values.length);
  const slot = (fr.x1 - fr.x0) / n;
  axes(prims, fr, null, sy, { xLabel: '', yLabel: c.yLabel, xTickLabels: c.labels.map((t, i) => ({ at: fr.x0 + slot * (i + 0.5), text: t })) });
  c.values.forEach((v, i) => {
    const w = Math.min(60, slot * 0.6);
    const x = fr.x0 + slot * (i + 0.5) - w / 2;
    const y = sy(v);
    prims.push({ k: 'rect', x: round(x), y: round(y), w: round(w), h: round(fr.y1 - y), fill: COLORS.bar, stroke: null, width: 0 });
    if (c.valueLabels) prims.push(text(x + w / 2, y - 3, c.valueLabels[i], { anchor: 'middle', size: 8 }));
  });
  return { id: c.id, title: c.title, width: c.width, height: c.height, prims };
}

/** A placeholder chart with a message (a chart whose data does not exist for this run). */
export function emptyChart(id: string, title: string, width: number, height: number, message: string): Chart {
  return {
    id,
    title,
    width,
    height,
    prims: [
      titlePrim(title),
      { k: 'rect', x: 6, y: 22, w: width - 12, h: height - 30, fill: null, stroke: COLORS.grid, width: 1 },
      text(width / 2, height / 2 + 4, message, { anchor: 'middle', size: 9, color: COLORS.muted }),
    ],
  };
}

export interface ScatterInput {
  id: string;
  title: string;
  width: number;
  height: number;
  points: ReadonlyArray<{ x: number; y: number; color: string }>;
  /** Legend of the point colours (drawn as swatches). */
  legend?: Array<{ label: string; color: string }>;
  xLabel: string;
  yLabel: string;
  xLog?: boolean;
  /** Categorical x: the points' x are indices into these labels. */
  xCategories?: string[];
}

/** Points of y against x (e.g. a sweep's score against one parameter). */
export function scatterChart(c: ScatterInput): Chart {
  const prims: Prim[] = [titlePrim(c.title)];
  const rows = legendFor(c.width, (c.legend ?? []).map((l) => ({ label: l.label, color: l.color, kind: 'band' as const })));
  const fr = frameFor(c.width, c.height, rows.length);
  const [ylo, yhi] = extent([c.points.map((p) => p.y)]);
  const sy = linearScale(ylo, yhi, fr.y1, fr.y0, 4);
  const pad = 6;
  let sx: Scale;
  let ticks: Array<{ at: number; text: string }> | undefined;
  if (c.xCategories) {
    const n = Math.max(1, c.xCategories.length);
    const slot = (fr.x1 - fr.x0) / n;
    sx = ((v: number) => fr.x0 + slot * (v + 0.5)) as Scale;
    sx.ticks = [];
    sx.label = String;
    sx.log = false;
    ticks = c.xCategories.map((t, i) => ({ at: sx(i), text: t }));
  } else {
    const [xlo, xhi] = extent([c.points.map((p) => p.x)]);
    sx = c.xLog && xlo > 0 ? logScale(xlo, xhi, fr.x0 + pad, fr.x1 - pad) : linearScale(xlo, xhi, fr.x0 + pad, fr.x1 - pad, 5);
  }
  axes(prims, fr, c.xCategories ? null : sx, sy, { xLabel: c.xLabel + (c.xLog ? ' (log scale)' : ''), yLabel: c.yLabel, xTickLabels: ticks });
  for (const p of c.points) {
    if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) continue;
    prims.push({ k: 'rect', x: round(sx(p.x) - 2), y: round(sy(p.y) - 2), w: 4, h: 4, fill: p.color, stroke: null, width: 0, opacity: 0.85 });
  }
  legend(prims, fr.x0 + 2, rows);
  return { id: c.id, title: c.title, width: c.width, height: c.height, prims };
}
