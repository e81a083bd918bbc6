// The report as a PDF, drawn with pdfkit (no browser): the same blocks as the HTML page, the charts from
// the same primitives as the SVGs (chart.ts), A4 portrait. Text uses the standard Helvetica fonts
// (WinAnsi), so characters outside that set are spelled out (>= for ≥ …).
import PDFDocument from 'pdfkit';
import { createWriteStream } from 'node:fs';
import type { Chart, Prim } from './chart.js';
import { FULL_WIDTH, type Block } from './model.js';

type Doc = PDFKit.PDFDocument;

const PAGE = { width: 595.28, height: 841.89, margin: 40 };
const BOTTOM = PAGE.height - PAGE.margin;
/** Helvetica's ascender (pdfkit places text by the top of the line; charts give the baseline). */
const ASCENT = 0.718;

const WIN_ANSI_EXTRA = new Set('€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ');
const REPLACE: Record<string, string> = { '≥': '>=', '≤': '<=', '−': '-', '∈': 'in', 'Σ': 'sum', '→': '->', '≈': '~', '√': 'sqrt', '∞': 'inf' };

/** Text in the standard fonts' WinAnsi encoding (unknown characters become '?'). */
export function pdfText(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if ((c >= 0x20 && c <= 0x7e) || (c >= 0xa0 && c <= 0xff) || WIN_ANSI_EXTRA.has(ch)) out += ch;
    else if (REPLACE[ch] !== undefined) out += REPLACE[ch];
    else if (ch === '\n') out += ch;
    else out += '?';
  }
  return out;
}

function font(doc: Doc, bold: boolean | undefined, size: number): void {
  doc.font(bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(size);
}

function applyDash(doc: Doc, d: number[] | undefined): void {
  if (d && d.length) doc.dash(d[0], { space: d[1] ?? d[0] });
  else doc.undash();
}

function drawPrim(doc: Doc, p: Prim): void {
  switch (p.k) {
    case 'line':
      doc.save();
      applyDash(doc, p.dash);
      doc.moveTo(p.x1, p.y1).lineTo(p.x2, p.y2).lineWidth(p.width).strokeColor(p.stroke).stroke();
      doc.restore();
      return;
    case 'polyline': {
      if (p.pts.length < 4) return;
      doc.save();
      applyDash(doc, p.dash);
      doc.moveTo(p.pts[0], p.pts[1]);
      for (let i = 2; i < p.pts.length; i += 2) doc.lineTo(p.pts[i], p.pts[i + 1]);
      doc.lineWidth(p.width).lineJoin('round').strokeColor(p.stroke).stroke();
      doc.restore();
      return;
    }
    case 'polygon': {
      if (p.pts.length < 6) return;
      doc.save();
      doc.moveTo(p.pts[0], p.pts[1]);
      for (let i = 2; i < p.pts.length; i += 2) doc.lineTo(p.pts[i], p.pts[i + 1]);
      doc.closePath().fillOpacity(p.opacity).fill(p.fill);
      doc.restore();
      return;
    }
    case 'rect':
      doc.save();
      doc.rect(p.x, p.y, p.w, p.h);
      if (p.fill && p.stroke) doc.lineWidth(p.width).fillOpacity(p.opacity ?? 1).fillAndStroke(p.fill, p.stroke);
      else if (p.fill) doc.fillOpacity(p.opacity ?? 1).fill(p.fill);
      else if (p.stroke) doc.lineWidth(p.width).stroke(p.stroke);
      doc.restore();
      return;
    case 'text': {
      const s = pdfText(p.text);
      doc.save();
      font(doc, p.bold, p.size);
      const w = doc.widthOfString(s);
      const dx = p.anchor === 'middle' ? -w / 2 : p.anchor === 'end' ? -w : 0;
      if (p.rotate) doc.rotate(p.rotate, { origin: [p.x, p.y] });
      doc.fillColor(p.color).text(s, p.x + dx, p.y - ASCENT * p.size, { lineBreak: false });
      doc.restore();
      return;
    }
  }
}

export function drawChart(doc: Doc, c: Chart, x: number, y: number): void {
  doc.save();
  doc.translate(x, y);
  doc.rect(0, 0, c.width, c.height).lineWidth(0.5).stroke('#e6e6e6');
  for (const p of c.prims) drawPrim(doc, p);
  doc.restore();
}

class Layout {
  y = PAGE.margin;
  constructor(readonly doc: Doc) {}
  get x(): number {
    return PAGE.margin;
  }
  ensure(h: number): void {
    if (this.y + h > BOTTOM) this.page();
  }
  page(): void {
    this.doc.addPage();
    this.y = PAGE.margin;
  }
  /** A page break that never leaves an empty page. */
  breakPage(): void {
    if (this.y > PAGE.margin + 1) this.page();
  }
}

function paragraph(L: Layout, s: string, size = 9, color = '#222222', bold = false): void {
  const doc = L.doc;
  font(doc, bold, size);
  const t = pdfText(s);
  const h = doc.heightOfString(t, { width: FULL_WIDTH });
  L.ensure(h);
  doc.fillColor(color).text(t, L.x, L.y, { width: FULL_WIDTH });
  L.y += h + 4;
}

function table(L: Layout, b: Extract<Block, { t: 'table' }>): void {
  const doc = L.doc;
  const size = b.columns.length > 8 ? 6.8 : 8;
  const total = b.widths.reduce((a, w) => a + w, 0);
  const widths = b.widths.map((w) => (w / total) * FULL_WIDTH);
  const pad = 3;
  const rowHeight = (cells: string[], bold: boolean) => {
    font(doc, bold, size);
    return Math.max(...cells.map((c, i) => doc.heightOfString(pdfText(c) || ' ', { width: widths[i] - 2 * pad }))) + 2 * pad;
  };
  const drawRow = (cells: string[], bold: boolean, fill: string | null) => {
    const h = rowHeight(cells, bold);
    if (fill) doc.save().rect(L.x, L.y, FULL_WIDTH, h).fill(fill).restore();
    let cx = L.x;
    font(doc, bold, size);
    cells.forEach((c, i) => {
      doc.fillColor('#222222').text(pdfText(c), cx + pad, L.y + pad, { width: widths[i] - 2 * pad, align: b.align[i] === 'r' ? 'right' : 'left' });
      cx += widths[i];
    });
    doc.save().moveTo(L.x, L.y + h).lineTo(L.x + FULL_WIDTH, L.y + h).lineWidth(0.4).strokeColor('#dddddd').stroke().restore();
    L.y += h;
  };
  L.ensure(rowHeight(b.columns, true) + (b.rows[0] ? rowHeight(b.rows[0], false) : 0));
  drawRow(b.columns, true, '#f0f2f5');
  b.rows.forEach((r, k) => {
    const h = rowHeight(r, false);
    if (L.y + h > BOTTOM) {
      L.page();
      drawRow(b.columns, true, '#f0f2f5');
    }
    const cls = b.rowClass?.[k];
    drawRow(r, false, cls === 'fail' ? '#fdecea' : cls === 'pass' ? '#f3faf4' : null);
  });
  L.y += 8;
}

const REC_COLOR: Record<string, string> = { DEPLOY: '#2a8a3e', TEST: '#2f6db5', IMPROVE: '#c98a14', REJECT: '#c0392b' };

function gradeBlock(L: Layout, b: Extract<Block, { t: 'grade' }>): void {
  const doc = L.doc;
  font(doc, false, 9);
  const failedText = b.failed.length ? b.failed.map((f) => `• ${f}`).join('\n') : 'No gate failed.';
  const textW = FULL_WIDTH - 110;
  const h = Math.max(80, 44 + doc.heightOfString(pdfText(b.rationale), { width: textW }) + doc.heightOfString(pdfText(failedText), { width: textW }) + 10);
  L.ensure(h + 10);
  const y0 = L.y;
  doc.save().roundedRect(L.x, y0, FULL_WIDTH, h, 5).lineWidth(0.8).stroke('#cccccc').restore();
  font(doc, true, 40);
  const lw = doc.widthOfString(b.letter);
  doc.fillColor('#222222').text(b.letter, L.x + 50 - lw / 2, y0 + h / 2 - 22, { lineBreak: false });
  const tx = L.x + 100;
  font(doc, true, 15);
  const rw = doc.widthOfString(b.recommendation) + 16;
  doc.save().rect(tx, y0 + 10, rw, 22).fill(REC_COLOR[b.recommendation] ?? '#555555').restore();
  doc.fillColor('#ffffff').text(b.recommendation, tx + 8, y0 + 14, { lineBreak: false });
  font(doc, false, 11);
  doc.fillColor('#222222').text(`score ${b.score.toFixed(1)} / 100`, tx + rw + 12, y0 + 16, { lineBreak: false });
  font(doc, false, 9);
  doc.fillColor('#222222').text(pdfText(b.rationale), tx, y0 + 40, { width: textW });
  doc.fillColor(b.failed.length ? '#aa1122' : '#222222').text(pdfText(failedText), tx, doc.y + 3, { width: textW });
  L.y = y0 + h + 10;
}

function charts(L: Layout, cs: Chart[]): void {
  const h = Math.max(...cs.map((c) => c.height));
  L.ensure(h + 6);
  let x = L.x;
  for (const c of cs) {
    drawChart(L.doc, c, x, L.y);
    x += c.width + 5;
  }
  L.y += h + 8;
}

function drawBlock(L: Layout, b: Block): void {
  const doc = L.doc;
  switch (b.t) {
    case 'title':
      paragraph(L, b.text, 18, '#222222', true);
      for (const s of b.sub) paragraph(L, s, 8.5, '#555555');
      L.y += 2;
      return;
    case 'grade':
      gradeBlock(L, b);
      return;
    case 'h2':
      L.ensure(40);
      L.y += 6;
      paragraph(L, b.text, 13, '#222222', true);
      doc.save().moveTo(L.x, L.y - 2).lineTo(L.x + FULL_WIDTH, L.y - 2).lineWidth(0.6).strokeColor('#cccccc').stroke().restore();
      L.y += 3;
      return;
    case 'p':
      paragraph(L, b.text);
      return;
    case 'table':
      table(L, b);
      return;
    case 'charts':
      charts(L, b.charts);
      return;
    case 'pagebreak':
      L.breakPage();
      return;
  }
}

/** Writes the blocks as a PDF file; resolves with the page count once the file is complete. */
export function writePdf(blocks: Block[], file: string, title: string): Promise<number> {
  const doc = new PDFDocument({ size: 'A4', margin: PAGE.margin, info: { Title: pdfText(title), Creator: 'swt', Producer: 'swt (pdfkit)' }, bufferPages: true });
  const out = createWriteStream(file);
  const done = new Promise<void>((resolve, reject) => {
    out.on('finish', resolve);
    out.on('error', reject);
    doc.on('error', reject);
  });
  doc.pipe(out);
  const L = new Layout(doc);
  for (const b of blocks) drawBlock(L, b);
  // Page numbers, once the page count is known.
  const range = doc.bufferedPageRange();
  for (let i = range.start; i < range.start + range.count; i++) {
    doc.switchToPage(i);
    // Text inside the bottom margin would make pdfkit open a new page: lift the margin for the footer.
    const bottom = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    font(doc, false, 7.5);
    doc.fillColor('#888888').text(pdfText(`${title} · page ${i + 1} of ${range.count}`), PAGE.margin, PAGE.height - 28, { width: FULL_WIDTH, align: 'right', lineBreak: false });
    doc.page.margins.bottom = bottom;
  }
  doc.end();
  return done.then(() => range.count);
}
