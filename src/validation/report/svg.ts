// Renders a chart (chart.ts) as an inline SVG element. The viewBox keeps the chart's own coordinates,
// so it scales with the page; data-chart carries the chart id (tests and scripts find charts by it).
import type { Chart, Prim } from './chart.js';

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const num = (v: number) => String(Math.round(v * 100) / 100);

function dash(d: number[] | undefined): string {
  return d && d.length ? ` stroke-dasharray="${d.join(' ')}"` : '';
}

function prim(p: Prim): string {
  switch (p.k) {
    case 'line':
      return `<line x1="${num(p.x1)}" y1="${num(p.y1)}" x2="${num(p.x2)}" y2="${num(p.y2)}" stroke="${p.stroke}" stroke-width="${p.width}"${dash(p.dash)}/>`;
    case 'polyline':
      return `<polyline fill="none" stroke="${p.stroke}" stroke-width="${p.width}" stroke-linejoin="round"${dash(p.dash)} points="${pairs(p.pts)}"/>`;
    case 'polygon':
      return `<polygon fill="${p.fill}" fill-opacity="${p.opacity}" stroke="none" points="${pairs(p.pts)}"/>`;
    case 'rect':
      return `<rect x="${num(p.x)}" y="${num(p.y)}" width="${num(p.w)}" height="${num(p.h)}" fill="${p.fill ?? 'none'}"${p.opacity !== undefined ? ` fill-opacity="${p.opacity}"` : ''}${p.stroke ? ` stroke="${p.stroke}" stroke-width="${p.width}"` : ''}/>`;
    case 'text': {
      const rot = p.rotate ? ` transform="rotate(${p.rotate} ${num(p.x)} ${num(p.y)})"` : '';
      return `<text x="${num(p.x)}" y="${num(p.y)}" font-size="${p.size}" text-anchor="${p.anchor}" fill="${p.color}"${p.bold ? ' font-weight="bold"' : ''}${rot}>${escapeXml(p.text)}</text>`;
    }
  }
}

function pairs(pts: number[]): string {
  const out: string[] = [];
  for (let i = 0; i < pts.length; i += 2) out.push(`${num(pts[i])},${num(pts[i + 1])}`);
  return out.join(' ');
}

export function chartSvg(c: Chart): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="${escapeXml(c.id)}" viewBox="0 0 ${c.width} ${c.height}" ` +
    `width="${c.width}" height="${c.height}" role="img" aria-label="${escapeXml(c.title)}" font-family="Helvetica, Arial, sans-serif">` +
    `<rect x="0" y="0" width="${c.width}" height="${c.height}" fill="#ffffff"/>` +
    c.prims.map(prim).join('') +
    '</svg>'
  );
}
