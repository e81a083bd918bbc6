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
  let lastLog = 0;
  return {
    update(done) {
      const now = Date.now();
      if (now - lastLog > 5000) {
        lastLog = now;
        log().info({ label, done, total }, `${label}: ${done}/${total} (${((100 * done) / Math.max(total, 1)).toFixed(1)}%)`);
      }
    },
    stop() {
      log().debug({ label, total }, `${label}: done`);
    },
  };
}
