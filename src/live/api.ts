// The runner's control API: loopback HTTP, bearer-token guarded. `swt live status|flatten|halt|resume`
// talk to it (they never open the runner's store). The runner writes where it listens to a state file
// (mode 0600: it holds the API token, which is not the broker's); the client reads it from there.
import http from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { InputError } from '../util/errors.js';

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

export class ControlApiError extends InputError {}

const same = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

export async function startControlApi(target: ControlTarget, o: { host: string; port: number; token: string | null; stateFile: string }): Promise<{ state: RunnerState; close(): Promise<void> }> {
  if (!['127.0.0.1', '::1', 'localhost'].includes(o.host)) throw new ControlApiError(`live.api.host must be a loopback address (127.0.0.1), got ${o.host}`);
  const token = o.token ?? randomBytes(24).toString('hex');
  const server = http.createServer(async (req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const auth = req.headers.authorization ?? '';
    if (!same(auth, `Bearer ${token}`)) return send(401, { error: 'missing or wrong bearer token' });
    const route = `${req.method} ${new URL(req.url ?? '/', 'http://x').pathname}`;
    try {
      if (route === 'GET /status') return send(200, target.status());
      if (route === 'POST /halt') target.halt('halt requested over the control API');
      else if (route === 'POST /resume') target.resume('resume requested over the control API');
      else if (route === 'POST /flatten') await target.flatten('flatten requested over the control API');
      else return send(404, { error: `no route ${route}` });
      send(200, target.status());
    } catch (e) {
      send(500, { error: (e as Error).message });
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
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Calls the running runner named by the state file. */
export async function callRunner(stateFile: string, command: 'status' | 'flatten' | 'halt' | 'resume'): Promise<unknown> {
  let state: RunnerState;
  try {
    state = JSON.parse(readFileSync(stateFile, 'utf8')) as RunnerState;
  } catch {
    throw new ControlApiError(`no running swt live runner: ${stateFile} is missing or unreadable (start one with swt live --broker …)`);
  }
  const method = command === 'status' ? 'GET' : 'POST';
  return new Promise((resolve, reject) => {
    const req = http.request({ host: state.host, port: state.port, path: `/${command}`, method, headers: { authorization: `Bearer ${state.api_token}` }, timeout: 10_000 }, (res) => {
      let s = '';
      res.on('data', (c) => (s += c));
      res.on('end', () => {
        let body: unknown = null;
        try {
          body = JSON.parse(s);
        } catch {
          body = s;
        }
        if (res.statusCode === 200) resolve(body);
        else reject(new ControlApiError(`the runner answered ${res.statusCode}: ${(body as { error?: string })?.error ?? s}`));
      });
    });
    req.on('timeout', () => req.destroy(new Error('the runner did not answer within 10 s')));
    req.on('error', (e) => reject(new ControlApiError(`cannot reach the runner at ${state.host}:${state.port} (pid ${state.pid}): ${e.message}`)));
    req.end();
  });
}
