import os from 'node:os';

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Prints a figure as `name=value` (what scripts parse) */
export function report(name: string, value: number | string, digits = 3): void {
  process.stdout.write(`${name}=${typeof value === 'number' ? Number(value.toFixed(digits)) : value}\n`);
}

export function reportCores(): void {
  report('cores', os.availableParallelism());
}
