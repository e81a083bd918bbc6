// Minimal PDF reading for report tests: page count and the text drawn with the standard fonts (pdfkit
// writes it as hex strings inside TJ arrays of Flate-compressed content streams).
import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';

export function pdfPageCount(file: string): number {
  return (readFileSync(file).toString('latin1').match(/\/Type \/Page\b/g) ?? []).length;
}

/** Every text run of the document, in drawing order. */
export function pdfTextRuns(file: string): string[] {
  const buf = readFileSync(file);
  const s = buf.toString('latin1');
  const runs: string[] = [];
  const re = /stream\r?\n/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) {
    const start = m.index + m[0].length;
    const end = s.indexOf('endstream', start);
    let content: string;
    try {
      content = inflateSync(buf.subarray(start, end)).toString('latin1');
    } catch {
      continue; // fonts, images: not content streams
    }
    for (const tj of content.matchAll(/\[((?:<[0-9a-fA-F]*>|[-\d.\s])*)\]\s*TJ/g)) {
      runs.push([...tj[1].matchAll(/<([0-9a-fA-F]*)>/g)].map((h) => Buffer.from(h[1], 'hex').toString('latin1')).join(''));
    }
  }
  return runs;
}
