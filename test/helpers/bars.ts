import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

export interface Bar {
  ms: number;
  o: number;
  h: number;
  l: number;
  c: number;
  v: number;
}

/** A simple valid series: `n` consecutive minutes from `startIso`, prices around 150. */
export function makeBars(startIso: string, n: number, opts: { rangePips?: number; skip?: (i: number) => boolean } = {}): Bar[] {
  const start = Date.parse(startIso);
  const half = ((opts.rangePips ?? 4) * 0.01) / 2;
  const out: Bar[] = [];
  let price = 150;
  for (let i = 0; i < n; i++) {
    if (opts.skip?.(i)) continue;
    const o = price;
    const c = Math.round((price + ((i % 7) - 3) * 0.003) * 1000) / 1000;
    out.push({ ms: start + i * 60_000, o, h: Math.round((Math.max(o, c) + half) * 1000) / 1000, l: Math.round((Math.min(o, c) - half) * 1000) / 1000, c, v: 10 + (i % 5) });
    price = c;
  }
  return out;
}

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

export function csvLines(bars: Bar[]): string[] {
  return ['ts,open,high,low,close,volume', ...bars.map((b) => `${iso(b.ms)},${b.o},${b.h},${b.l},${b.c},${b.v}`)];
}

export function writeLines(file: string, lines: string[], gz = false): string {
  const text = `${lines.join('\n')}\n`;
  writeFileSync(file, gz ? gzipSync(text) : text);
  return file;
}
