// The /ws fan-out. Each client gets a snapshot of every type on connect, then at most one message per
// type per throttle window, built when it is sent (the newest state, never a queue of stale ones):
//   - leading edge: a change after the type has been quiet for a whole window goes out after a short
//     gather (GATHER_MS), so the events of one moment (a bar, its decision, its order) travel together;
//   - trailing edge: a change inside a window goes out once, at the window's end.
// The promise "≤ 1 message per type per second" is kept by the client's clock, not only the server's:
// a message delayed on its way can land closer to the next one than they were sent, so the spacing is
// the window plus GUARD_MS. A client that cannot keep up (its socket buffer over a limit) skips a
// message; the next one carries everything.
import type { WebSocket } from 'ws';

export const MESSAGE_TYPES = ['collection_status', 'trader_state', 'trades', 'training', 'alert'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

/** What a message of a type carries now, and the wall-clock ms of the newest event folded into it. */
export type MessageSource = (type: MessageType) => { data: unknown; event_at_ms: number };

const MAX_BUFFERED = 1 << 20;
/** How long a leading-edge send waits for the rest of its moment's events. */
export const GATHER_MS = 40;
/** Added to the window between two sends: the delivery jitter the receiving clock may see. */
export const GUARD_MS = 60;

export interface HubOptions {
  throttleMs: number;
  gatherMs?: number;
  guardMs?: number;
  now?: () => number;
}

interface Client {
  socket: WebSocket;
  last: Record<MessageType, number>;
  /** When the oldest change not yet sent to this client happened. */
  pendingSince: Partial<Record<MessageType, number>>;
  timers: Partial<Record<MessageType, NodeJS.Timeout>>;
}

export class Hub {
  private readonly clients = new Set<Client>();
  private seq = 0;
  /** The serialised message of each type, rebuilt when the type changed since it was built. */
  private readonly cache = new Map<MessageType, { version: number; json: string }>();
  private readonly version: Record<MessageType, number> = { collection_status: 0, trader_state: 0, trades: 0, training: 0, alert: 0 };
  private readonly sentListeners: Array<(type: MessageType, oldestPendingMs: number) => void> = [];
  private readonly throttleMs: number;
  private readonly gatherMs: number;
  private readonly spacingMs: number;
  private readonly now: () => number;
  sent = 0;
  /** Shortest time between two messages of one type to one client, as sent (the throttle's floor). */
  minGapMs = Infinity;

  constructor(
    private readonly source: MessageSource,
    o: HubOptions,
  ) {
    this.throttleMs = o.throttleMs;
    this.gatherMs = o.gatherMs ?? GATHER_MS;
    this.spacingMs = o.throttleMs + (o.guardMs ?? GUARD_MS);
    this.now = o.now ?? Date.now;
  }

  get size(): number {
    return this.clients.size;
  }

  /** Called after each message sent after a change, with the age of the oldest change it folds in. */
  onSent(fn: (type: MessageType, oldestPendingMs: number) => void): void {
    this.sentListeners.push(fn);
  }

  private message(type: MessageType): string {
    const c = this.cache.get(type);
    if (c && c.version === this.version[type]) return c.json;
    const { data, event_at_ms } = this.source(type);
    const json = JSON.stringify({ type, seq: ++this.seq, event_at_ms, data });
    this.cache.set(type, { version: this.version[type], json });
    return json;
  }

  add(socket: WebSocket): void {
    const t = this.now();
    const client: Client = { socket, last: { collection_status: t, trader_state: t, trades: t, training: t, alert: t }, pendingSince: {}, timers: {} };
    this.clients.add(client);
    socket.on('close', () => this.remove(client));
    socket.on('error', () => this.remove(client));
    for (const type of MESSAGE_TYPES) this.send(client, type, true);
  }

  private remove(client: Client): void {
    for (const t of Object.values(client.timers)) clearTimeout(t);
    this.clients.delete(client);
  }

  private send(client: Client, type: MessageType, first = false): void {
    const now = this.now();
    if (!first) this.minGapMs = Math.min(this.minGapMs, now - client.last[type]);
    client.last[type] = now;
    const since = client.pendingSince[type];
    delete client.pendingSince[type];
    if (client.socket.readyState !== 1 || client.socket.bufferedAmount > MAX_BUFFERED) return;
    client.socket.send(this.message(type));
    this.sent++;
    if (!first && since !== undefined) for (const fn of this.sentListeners) fn(type, now - since);
  }

  /** A type's content changed: every client gets it after the gather, or at the end of its window. */
  offer(type: MessageType): void {
    this.version[type]++;
    const now = this.now();
    for (const client of this.clients) {
      client.pendingSince[type] ??= now;
      if (!client.timers[type]) this.schedule(client, type, now);
    }
  }

  private schedule(client: Client, type: MessageType, now: number): void {
    const at = Math.max(now + this.gatherMs, client.last[type] + this.spacingMs);
    client.timers[type] = setTimeout(() => {
      delete client.timers[type];
      // timers may fire a millisecond early by the wall clock: re-check when it fires
      const t = this.now();
      if (t < client.last[type] + this.spacingMs) this.schedule(client, type, t);
      else this.send(client, type);
    }, at - now);
  }

  /** The window the throttle promises (config dashboard.throttle_ms). */
  get windowMs(): number {
    return this.throttleMs;
  }

  close(): void {
    for (const c of [...this.clients]) {
      this.remove(c);
      c.socket.close(1001, 'server closing');
    }
  }
}
