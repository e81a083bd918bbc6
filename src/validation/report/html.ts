// The report as one self-contained HTML page: inline CSS and inline SVG charts, no script, no external
// resource, so it opens offline from anywhere.
import type { Block } from './model.js';
import { chartSvg, escapeXml } from './svg.js';

const CSS = `
body { font-family: Helvetica, Arial, sans-serif; color: #222; margin: 0; background: #f4f5f7; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 28px 48px; background: #fff; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
p { font-size: 13px; line-height: 1.5; margin: 6px 0 10px; }
.sub { color: #555; font-size: 13px; margin: 2px 0; }
.grade { display: flex; gap: 22px; align-items: center; border: 1px solid #ddd; border-radius: 6px; padding: 14px 18px; margin: 16px 0; }
.letter { font-size: 54px; font-weight: bold; width: 90px; text-align: center; }
.rec { font-size: 22px; font-weight: bold; padding: 4px 12px; border-radius: 4px; color: #fff; display: inline-block; }
.rec-DEPLOY { background: #2a8a3e; } .rec-TEST { background: #2f6db5; } .rec-IMPROVE { background: #c98a14; } .rec-REJECT { background: #c0392b; }
.failed { margin: 6px 0 0; padding-left: 18px; font-size: 13px; color: #a12; }
table { border-collapse: collapse; width: 100%; font-size: 12.5px; margin: 6px 0 12px; }
th, td { border-bottom: 1px solid #e6e6e6; padding: 4px 6px; vertical-align: top; }
th { background: #f0f2f5; text-align: left; }
td.r, th.r { text-align: right; white-space: nowrap; }
tr.fail td { background: #fdecea; } tr.pass td { background: #f3faf4; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; margin: 8px 0; }
.charts svg { border: 1px solid #eee; max-width: 100%; height: auto; }
.charts.one svg { width: 100%; }
.charts.two svg { width: calc(50% - 8px); }
footer { margin-top: 30px; font-size: 11px; color: #777; }
`;

function table(b: Extract<Block, { t: 'table' }>): string {
  const head = b.columns.map((c, i) => `<th class="${b.align[i]}">${escapeXml(c)}</th>`).join('');
  const rows = b.rows
    .map((r, k) => `<tr${b.rowClass?.[k] ? ` class="${b.rowClass[k]}"` : ''}>${r.map((c, i) => `<td class="${b.align[i]}">${escapeXml(c)}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table data-table="${escapeXml(b.id)}"><thead><tr>${head}</tr></thead><tbody>\n${rows}\n</tbody></table>`;
}

function block(b: Block): string {
  switch (b.t) {
    case 'title':
      return `<h1>${escapeXml(b.text)}</h1>${b.sub.map((s) => `<div class="sub">${escapeXml(s)}</div>`).join('')}`;
    case 'grade':
      return (
        `<section class="grade" data-grade="${escapeXml(b.letter)}"><div class="letter">${escapeXml(b.letter)}</div><div>` +
        `<div><span class="rec rec-${b.recommendation}">${b.recommendation}</span> &nbsp; score ${b.score.toFixed(1)} / 100</div>` +
        `<p>${escapeXml(b.rationale)}</p>` +
        (b.failed.length ? `<ul class="failed">${b.failed.map((f) => `<li>${escapeXml(f)}</li>`).join('')}</ul>` : '<p>No gate failed.</p>') +
        '</div></section>'
      );
    case 'h2':
      return `<h2>${escapeXml(b.text)}</h2>`;
    case 'p':
      return `<p>${escapeXml(b.text)}</p>`;
    case 'table':
      return table(b);
    case 'charts':
      return `<div class="charts ${b.charts.length === 1 ? 'one' : 'two'}">${b.charts.map(chartSvg).join('\n')}</div>`;
    case 'pagebreak':
      return '';
  }
}

export function renderHtml(blocks: Block[], title: string, footer = 'swt validation report · the same content is in report.pdf · machine-readable result in validation.json'): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeXml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
${blocks.map(block).filter(Boolean).join('\n')}
<footer>${escapeXml(footer)}</footer>
</main>
</body>
</html>
`;
}
