// Progress for long work: a bar on a TTY, periodic log lines otherwise (so CI logs show it too).
import cliProgress from 'cli-progress';
import { log } from './log.js';

export interface Progress {
  update(done: number): void;
  stop(): void;
}

export function progress(label: string, total: number, opts: { quiet?: boolean } = {}): Progress {
  if (opts.quiet) return { update() {}, stop() {} };
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: `${label} [{bar}] {percentage}% | {value}/{total} | eta {eta_formatted}`, stream: process.stderr, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0);
    return { update: (d) => bar.update(Math.min(d, total)), stop: () => bar.stop() };
  }
  // Not a terminal (CI, a pipe): a plain line on stderr every few seconds, and the log file.
  const t0 = Date.now();
  let lastLine = t0;
  return {
    update(done) {
      const now = Date.now();
      if (now - lastLine > 5000) {
        lastLine = now;
        const line = `${label}: ${done}/${total} (${((100 * done) / Math.max(total, 1)).toFixed(1)}%, ${((now - t0) / 1000).toFixed(0)} s)`;
        process.stderr.write(`swt: ${line}\n`);
        log().debug({ label, done, total }, line);
      }
    },
    stop() {
      log().debug({ label, total }, `${label}: done`);
    },
  };
}
