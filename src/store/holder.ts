// Who holds a store file. DuckDB locks its file per process and its lock error names only a PID and
// an executable ("/usr/bin/node"), which does not tell a user which of their swt commands to wait for.
// So the process that holds the file also writes a small sidecar next to it (<db>.holder.json: PID,
// command, since when) and removes it before it lets the file go; a waiting command reads it to name
// the holder. A sidecar whose PID is no longer running (a killed process) is stale and ignored.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export type HoldMode = 'run' | 'unit';

/** The sidecar document (snake_case, like every stored JSON document). */
export interface HolderRecord {
  pid: number;
  command: string;
  process_started_at: string;
  held_since: string;
  hold: HoldMode;
}

export function holderFile(db: string): string {
  return `${db}.holder.json`;
}

/** What a user would type: `swt features build …` for the CLI, the script and its arguments otherwise. */
export function commandLine(argv: readonly string[] = process.argv): string {
  const script = argv[1] ? path.basename(argv[1]) : path.basename(argv[0] ?? 'node');
  return [script === 'swt.js' ? 'swt' : script, ...argv.slice(2)].join(' ');
}

export function writeHolder(db: string, hold: HoldMode, command: string): void {
  const rec: HolderRecord = {
    pid: process.pid,
    command,
    process_started_at: new Date(Date.now() - process.uptime() * 1000).toISOString(),
    held_since: new Date().toISOString(),
    hold,
  };
  const file = holderFile(db);
  const tmp = `${file}.${process.pid}.tmp`;
  // Written whole and renamed, so a reader never sees half a record.
  writeFileSync(tmp, `${JSON.stringify(rec)}\n`);
  renameSync(tmp, file);
}

/** Removes the sidecar if it is this process's (it must not delete the record of a holder after it). */
export function removeHolder(db: string): void {
  const rec = readHolder(db);
  if (rec && rec.pid !== process.pid) return;
  rmSync(holderFile(db), { force: true });
}

export function readHolder(db: string): HolderRecord | null {
  let text: string;
  try {
    text = readFileSync(holderFile(db), 'utf8');
  } catch {
    return null;
  }
  try {
    const rec = JSON.parse(text) as Partial<HolderRecord>;
    if (typeof rec.pid !== 'number' || typeof rec.command !== 'string') return null;
    return rec as HolderRecord;
  } catch {
    return null;
  }
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** DuckDB's "Could not set lock on file … Conflicting lock is held in /usr/bin/node (PID 123)". */
export function parseLockError(message: string): { pid: number | null; program: string | null } | null {
  if (!/Could not set lock on file/i.test(message)) return null;
  const m = /Conflicting lock is held in (.*?) \(PID (\d+)\)/.exec(message);
  return m ? { program: m[1], pid: Number(m[2]) } : { program: null, pid: null };
}

export interface LockHolder {
  pid: number | null;
  /** from a live sidecar whose PID is the one DuckDB names (or DuckDB named none) */
  record: HolderRecord | null;
  /** DuckDB's word on the holding program when there is no live record */
  program: string | null;
  /** a sidecar was found but its PID is not running (or is not the holder DuckDB names) */
  staleRecord: HolderRecord | null;
  /** the holder is another Store object of this very process */
  sameProcess?: boolean;
}

/** Puts DuckDB's PID and the sidecar together into the best account of who holds the file. */
export function identifyHolder(db: string, duck: { pid: number | null; program: string | null }): LockHolder {
  const rec = readHolder(db);
  const live = rec !== null && pidAlive(rec.pid) && (duck.pid === null || duck.pid === rec.pid);
  return {
    pid: duck.pid ?? (live ? rec!.pid : null),
    record: live ? rec : null,
    program: duck.program,
    staleRecord: rec && !live ? rec : null,
  };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The sentence that names the holder: PID, command and since when, or why the command is unknown. */
export function describeHolder(h: LockHolder, now = Date.now()): string {
  if (h.sameProcess) return `another Store of this process (PID ${h.pid}) holds it; share that Store or close it first`;
  if (h.record) {
    const since = Date.parse(h.record.held_since);
    const mode = h.record.hold === 'unit' ? 'it gives the file back between units of work' : 'it holds the file for its whole run';
    return `PID ${h.record.pid} (\`${h.record.command}\`) holds it, since ${h.record.held_since} (${seconds(now - since)}); ${mode}`;
  }
  const who = h.pid !== null ? `PID ${h.pid}${h.program ? ` (${h.program})` : ''} holds it` : 'another process holds it';
  const stale = h.staleRecord ? `; the holder record names PID ${h.staleRecord.pid} (\`${h.staleRecord.command}\`), which no longer holds it` : '; it left no holder record (not an swt command?)';
  return `${who}${stale}`;
}
