import { describe, it, expect, afterAll } from 'vitest';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { Store } from '../src/store/db.js';
import { swt, tempDir } from './helpers/paths.js';
import { csvLines, makeBars, writeLines } from './helpers/bars.js';

const t = tempDir();
afterAll(t.cleanup);
let n = 0;
const freshDb = () => path.join(t.dir, `bad-${++n}.duckdb`);

async function counts(db: string) {
  const s = await Store.open(db);
  try {
    const [row] = await s.all<{ bars: number; rejected: number; imports: number }>(
      `SELECT (SELECT count(*) FROM bars) AS bars, (SELECT count(*) FROM bars_rejected) AS rejected, (SELECT count(*) FROM imports) AS imports`,
    );
    const rejections = await s.all<{ file: string; line: number; reason: string; raw: string }>(`SELECT file, line, reason, raw FROM bars_rejected ORDER BY line`);
    return { ...row, rejections };
  } finally {
    s.close();
  }
}

/** A 6-bar CSV with line `k` (1-based file line, header = 1) replaced. */
function csvWith(name: string, replace: Record<number, string>, extra: string[] = []): string {
  const lines = csvLines(makeBars('2020-03-02T10:00:00Z', 6));
  for (const [k, v] of Object.entries(replace)) lines[Number(k) - 1] = v;
  return writeLines(path.join(t.dir, name), [...lines, ...extra]);
}

const importArgs = (file: string, db: string, ...more: string[]) => ['data', 'import', file, '--instrument', 'GBP_JPY', '--format', 'csv', '--db', db, ...more];

describe('bad rows are rejected with file, line and reason; --strict changes nothing', () => {
  const cases: Array<{ name: string; line: number; text: string; reason: RegExp }> = [
    { name: 'a truncated line', line: 4, text: '2020-03-02T10:02:00Z,150.0,150.1', reason: /malformed: expected 6 fields separated by ",", got 3/ },
    { name: 'text in a price', line: 3, text: '2020-03-02T10:01:00Z,150.0,abc,149.9,150.0,5', reason: /malformed: field high is not a number: "abc"/ },
    { name: 'an unparseable timestamp', line: 5, text: '2020-03-02 25:99,150.0,150.1,149.9,150.0,5', reason: /malformed: unparseable timestamp "2020-03-02 25:99"/ },
    { name: 'high below the close (OHLC inconsistency)', line: 6, text: '2020-03-02T10:04:00Z,150.0,150.05,149.9,150.1,5', reason: /OHLC inconsistent: high below max\(open, close\)/ },
    { name: 'low above the open (OHLC inconsistency)', line: 2, text: '2020-03-02T10:00:00Z,149.95,150.1,149.97,150.0,5', reason: /OHLC inconsistent: low above min\(open, close\)/ },
    { name: 'a non-positive price', line: 7, text: '2020-03-02T10:05:00Z,0,150.1,0,150.0,5', reason: /non-positive price/ },
  ];

  for (const c of cases) {
    it(`${c.name}: kept in bars_rejected at line ${c.line}, the other rows imported, a warning on stderr`, async () => {
      const file = csvWith(`${c.name.replace(/\W+/g, '_')}.csv`, { [c.line]: c.text });
      const db = freshDb();
      const r = await swt(importArgs(file, db, '--json'));
      expect(r.status, r.stderr).toBe(0);
      const res = JSON.parse(r.stdout).imports[0];
      expect(res.rows_read).toBe(6);
      expect(res.rows_accepted).toBe(5);
      expect(res.rows_rejected).toBe(1);
      const k = await counts(db);
      expect(k.bars).toBe(5);
      expect(k.rejections).toHaveLength(1);
      expect(k.rejections[0].line).toBe(c.line);
      expect(k.rejections[0].file).toBe(path.resolve(file));
      expect(k.rejections[0].raw).toBe(c.text);
      expect(k.rejections[0].reason).toMatch(c.reason);
    });

    it(`${c.name} with --strict: exit 2 naming the file and line, nothing written`, async () => {
      const file = csvWith(`strict_${c.name.replace(/\W+/g, '_')}.csv`, { [c.line]: c.text });
      const db = freshDb();
      const r = await swt(importArgs(file, db, '--strict'));
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(file);
      expect(r.stderr).toMatch(new RegExp(`line ${c.line}: `));
      expect(r.stderr).toMatch(c.reason);
      expect(r.stdout).toBe('');
      expect(await counts(db)).toMatchObject({ bars: 0, rejected: 0, imports: 0 });
    });
  }

  it('a duplicate timestamp with different values: both lines rejected, naming each other', async () => {
    const file = csvWith('dup.csv', {}, ['2020-03-02T10:01:00Z,150.5,150.6,150.4,150.5,9']);
    const db = freshDb();
    const r = await swt(importArgs(file, db, '--json'));
    expect(r.status, r.stderr).toBe(0);
    const k = await counts(db);
    expect(k.bars).toBe(5);
    expect(k.rejections.map((x) => x.line)).toEqual([3, 8]);
    for (const x of k.rejections) expect(x.reason).toBe('duplicate timestamp with conflicting values (lines 3, 8)');
  });

  it('an identical duplicate collapses to one bar and is counted', async () => {
    const lines = csvLines(makeBars('2020-03-02T10:00:00Z', 4));
    const file = writeLines(path.join(t.dir, 'dup-same.csv'), [...lines, lines[2]]);
    const db = freshDb();
    const r = await swt(importArgs(file, db, '--json'));
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).imports[0]).toMatchObject({ rows_read: 5, rows_accepted: 4, duplicates_identical: 1, rows_rejected: 0 });
  });

  it('a bar that conflicts with one already stored is rejected; the stored bar stays', async () => {
    const db = freshDb();
    expect((await swt(importArgs(csvWith('base.csv', {}), db))).status).toBe(0);
    const changed = csvWith('changed.csv', { 3: '2020-03-02T10:01:00Z,150.0,150.2,149.9,150.1,5' }, ['2020-03-02T10:06:00Z,150.0,150.1,149.9,150.0,5']);
    const r = await swt(importArgs(changed, db, '--json'));
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).imports[0]).toMatchObject({ rows_accepted: 1, rows_already_present: 5, rows_rejected: 1 });
    const k = await counts(db);
    expect(k.bars).toBe(7);
    expect(k.rejections[0]).toMatchObject({ line: 3 });
    expect(k.rejections[0].reason).toMatch(/conflicts with the stored bar at this time \(import #1\)/);
  });
});

describe('files that cannot be imported at all fail cleanly', () => {
  it('an unsorted file is imported in time order with a warning; --strict refuses it', async () => {
    const lines = csvLines(makeBars('2020-03-02T10:00:00Z', 5));
    const file = writeLines(path.join(t.dir, 'unsorted.csv'), [lines[0], lines[1], lines[3], lines[2], lines[4], lines[5]]);
    const db = freshDb();
    const r = await swt(importArgs(file, db, '--json'));
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).imports[0]).toMatchObject({ rows_accepted: 5, out_of_order_lines: 1, first_out_of_order_line: 4 });
    expect(r.stderr).toMatch(/not sorted by time .*line 4/);
    const db2 = freshDb();
    const s = await swt(importArgs(file, db2, '--strict'));
    expect(s.status).toBe(2);
    expect(s.stderr).toMatch(/unsorted\.csv: --strict: the file is not sorted by time \(line 4 goes back in time\), nothing imported/);
    expect(await counts(db2)).toMatchObject({ bars: 0, imports: 0 });
  });

  it('an empty file: exit 2, "empty", nothing written', async () => {
    const file = path.join(t.dir, 'empty.csv');
    writeFileSync(file, '');
    const db = freshDb();
    const r = await swt(importArgs(file, db));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/empty\.csv: the file is empty/);
    const h = writeLines(path.join(t.dir, 'header-only.csv'), ['ts,open,high,low,close,volume']);
    const r2 = await swt(importArgs(h, db));
    expect(r2.status).toBe(2);
    expect(r2.stderr).toMatch(/header-only\.csv: the file has no data lines/);
    expect(await counts(db)).toMatchObject({ bars: 0, rejected: 0, imports: 0 });
  });

  it('a wrong --format flag: exit 2 with what was expected, nothing written', async () => {
    const file = csvWith('fine.csv', {});
    const db = freshDb();
    const r = await swt(['data', 'import', file, '--instrument', 'GBP_JPY', '--format', 'mt4', '--utc-offset', '3', '--db', db]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no record parses as --format mt4 .*Is --format right\? Expected lines like "2016\.04\.22,19:53/);
    const r2 = await swt(['data', 'import', file, '--instrument', 'GBP_JPY', '--format', 'dukascopy', '--db', db]);
    expect(r2.status).toBe(2);
    expect(r2.stderr).toMatch(/line 1: expected a Dukascopy header/);
    const r3 = await swt(['data', 'import', file, '--instrument', 'GBP_JPY', '--format', 'parquet', '--db', db]);
    expect(r3.status).toBe(2);
    expect(r3.stderr).toMatch(/argument 'parquet' is invalid.*csv, histdata, mt4, dukascopy, oanda/s);
    expect(await counts(db)).toMatchObject({ bars: 0, rejected: 0, imports: 0 });
  });

  it('an mt4 file without a zone: exit 2 explaining --utc-offset/--tz', async () => {
    const file = writeLines(path.join(t.dir, 'x.mt4.csv'), ['2016.04.22,19:53,160.532,160.536,160.512,160.516,115']);
    const r = await swt(['data', 'import', file, '--instrument', 'GBP_JPY', '--format', 'mt4', '--db', freshDb()]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/server time: give --utc-offset H .* or --tz ZONE/);
  });

  it('a missing file: exit 2 naming it, and no other file of the call is imported', async () => {
    const good = csvWith('good.csv', {});
    const db = freshDb();
    const r = await swt(['data', 'import', good, path.join(t.dir, 'nope.csv'), '--instrument', 'GBP_JPY', '--format', 'csv', '--db', db]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/nope\.csv: no such file/);
    expect(await counts(db)).toMatchObject({ bars: 0, imports: 0 });
  });

  it('a --strict failure in the second file rolls back the first: the store is unchanged', async () => {
    const good = csvWith('good2.csv', {});
    const bad = writeLines(path.join(t.dir, 'bad2.csv'), ['ts,open,high,low,close,volume', '2020-03-03T10:00:00Z,150,149,151,150,1']);
    const db = freshDb();
    const r = await swt(['data', 'import', good, bad, '--instrument', 'GBP_JPY', '--format', 'csv', '--db', db, '--strict']);
    expect(r.status).toBe(2);
    expect(await counts(db)).toMatchObject({ bars: 0, rejected: 0, imports: 0 });
  });

  it('an unknown IANA zone or both zone flags: exit 2', async () => {
    const file = csvWith('z.csv', {});
    expect((await swt([...importArgs(file, freshDb()), '--tz', 'Mars/Olympus'])).stderr).toMatch(/unknown IANA time zone "Mars\/Olympus"/);
    const r = await swt([...importArgs(file, freshDb()), '--tz', 'UTC', '--utc-offset', '2']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/either --tz or --utc-offset/);
  });
});
