// The runner's control API: loopback HTTP, bearer-token guarded. `swt live status|flatten|halt|resume`
// talk to it (they never open the runner's store). The runner writes where it listens to a state file
// (mode 0600: it holds the API token, which is not the broker's); the client reads it from there.
// `swt serve` in another process follows the run through GET /events (the bus's recent events after a
// cursor, long-polled) and forwards the dashboard's controls here.
import http from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { InputError } from '../util/errors.js';
import type { EventLog } from './events.js';

export interface ControlTarget {
  status(): unknown;
  flatten(reason: string): Promise<void>;
  halt(reason: string): void;
  resume(reason: string): void;
}

export interface RunnerState {
  pid: number;
  host: string;
  port: number;
  api_token: string;
  started_at: string;
}

/** What a follower needs to know of the run besides its events (snake_case, no secrets). */
export interface RunInfo {
  run_id: string;
  instrument: string;
  /** 'paper' | 'practice' | 'live'. */
  mode: string;
  feed: 'stream' | 'replay';
}

export class ControlApiError extends InputError {}

/** Longest a GET /events waits for an event (a follower asks again). */
const MAX_WAIT_MS = 25_000;
const MAX_EVENTS = 5_000;

const same = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

const intParam = (u: URL, name: string, dflt: number, max: number): number => {
  const raw = u.searchParams.get(name);
  if (raw === null) return dflt;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 0) throw new ControlApiError(`query parameter ${name} must be an integer >= 0, got "${raw}"`);
  return Math.min(v, max);
};

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let s = '';
    req.on('data', (c: Buffer) => {
      s += c.toString('utf8');
      if (s.length > 16_384) req.destroy(new Error('request body over 16 KiB'));
    });
    req.on('end', () => resolve(s));
    req.on('error', reject);
  });
}

/** The reason of a control request: {"reason": "..."} in the body, else `dflt`. */
function reasonOf(body: string, dflt: string): string {
  if (!body) return dflt;
  try {
    const r = (JSON.parse(body) as { reason?: unknown }).reason;
    return typeof r === 'string' && r ? r.slice(0, 200) : dflt;
  } catch {
    return dflt;
  }
}

export async function startControlApi(
  target: ControlTarget,
  o: { host: string; port: number; token: string | null; stateFile: string; events?: EventLog | null; run?: RunInfo | null },
): Promise<{ state: RunnerState; close(): Promise<void> }> {
  if (!['127.0.0.1', '::1', 'localhost'].includes(o.host)) throw new ControlApiError(`live.api.host must be a loopback address (127.0.0.1), got ${o.host}`);
  const token = o.token ?? randomBytes(24).toString('hex');
  // the newest event a follower has been given, and when it last asked
  let followed = { at: -Infinity, upTo: 0 };
  const server = http.createServer(async (req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const auth = req.headers.authorization ?? '';
    if (!same(auth, `Bearer ${token}`)) return send(401, { error: 'missing or wrong bearer token' });
    const url = new URL(req.url ?? '/', 'http://x');
    const route = `${req.method} ${url.pathname}`;
    try {
      if (route === 'GET /status') return send(200, target.status());
      if (route === 'GET /events') {
        if (!o.events) return send(404, { error: 'this runner keeps no event log' });
        const after = intParam(url, 'after', 0, Number.MAX_SAFE_INTEGER);
        const limit = intParam(url, 'limit', MAX_EVENTS, MAX_EVENTS);
        const wait = intParam(url, 'wait_ms', 0, MAX_WAIT_MS);
        if (wait > 0 && o.events.since(after, 1).events.length === 0) await o.events.wait(wait);
        const page = o.events.since(after, limit);
        followed = { at: Date.now(), upTo: Math.max(followed.upTo, page.events.at(-1)?.seq ?? after) };
        return send(200, { run: o.run ?? null, status: target.status(), ...page });
      }
      const reason = (what: string) => readBody(req).then((b) => reasonOf(b, `${what} requested over the control API`));
      if (route === 'POST /halt') target.halt(await reason('halt'));
      else if (route === 'POST /resume') target.resume(await reason('resume'));
      else if (route === 'POST /flatten') await target.flatten(await reason('flatten'));
      else return send(404, { error: `no route ${route}` });
      send(200, target.status());
    } catch (e) {
      send(e instanceof ControlApiError ? 400 : 500, { error: (e as Error).message });
    }
  });
  await new Promise<void>((r) => server.listen(o.port, o.host, r));
  const state: RunnerState = { pid: process.pid, host: o.host, port: (server.address() as AddressInfo).port, api_token: token, started_at: new Date().toISOString() };
  mkdirSync(path.dirname(path.resolve(o.stateFile)), { recursive: true });
  writeFileSync(o.stateFile, JSON.stringify(state), { mode: 0o600 });
  chmodSync(o.stateFile, 0o600);
  return {
    state,
    async close() {
      rmSync(o.stateFile, { force: true });
      // a follower (swt serve) still asking gets the run's last events before the API goes away
      const log = o.events;
      const t0 = Date.now();
      while (log && Date.now() - followed.at < 5000 && followed.upTo < log.since(0, 0).next_seq - 1 && Date.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 20));
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** The running runner's address and API token, from its state file. */
export function readRunnerState(stateFile: string): RunnerState {
  try {
    return JSON.parse(readFileSync(stateFile, 'utf8')) as RunnerState;
  } catch {
    throw new ControlApiError(`no running swt live runner: ${stateFile} is missing or unreadable (start one with swt live --broker …)`);
  }
}

/** One request to the runner's API; resolves with its JSON answer (status 200), rejects otherwise. */
export function requestRunner(state: RunnerState, method: 'GET' | 'POST', pathAndQuery: string, o: { body?: object; timeoutMs?: number } = {}): Promise<unknown> {
  const timeoutMs = o.timeoutMs ?? 10_000;
  const body = o.body ? JSON.stringify(o.body) : null;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${state.api_token}` };
    if (body) headers['content-type'] = 'application/json';
    const req = http.request({ host: state.host, port: state.port, path: pathAndQuery, method, headers, timeout: timeoutMs }, (res) => {
      let s = '';
      res.on('data', (c) => (s += c));
      res.on('end', () => {
        let answer: unknown = null;
        try {
          answer = JSON.parse(s);
        } catch {
          answer = s;
        }
        if (res.statusCode === 200) resolve(answer);
        else reject(new ControlApiError(`the runner answered ${res.statusCode}: ${(answer as { error?: string })?.error ?? s}`));
      });
    });
    req.on('timeout', () => req.destroy(new Error(`the runner did not answer within ${timeoutMs / 1000} s`)));
    req.on('error', (e) => reject(new ControlApiError(`cannot reach the runner at ${state.host}:${state.port} (pid ${state.pid}): ${e.message}`)));
    req.end(body ?? undefined);
  });
}

/** Calls the running runner named by the state file. */
export async function callRunner(stateFile: string, command: 'status' | 'flatten' | 'halt' | 'resume'): Promise<unknown> {
  return requestRunner(readRunnerState(stateFile), command === 'status' ? 'GET' : 'POST', `/${command}`);
}
