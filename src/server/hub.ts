// The /ws fan-out. Each client gets a snapshot of every type on connect, then at most one message per
// type per throttle window: a change inside the window is sent once at its end, with the state as it
// is then (the newest data, never a queue of stale ones). A client that cannot keep up (its socket
// buffer over a limit) skips a message; the next one carries everything.
import type { WebSocket } from 'ws';

export const MESSAGE_TYPES = ['collection_status', 'trader_state', 'trades', 'training', 'alert'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

/** What a message of a type carries now, and the wall-clock ms of the newest event folded into it. */
export type MessageSource = (type: MessageType) => { data: unknown; event_at_ms: number };

const MAX_BUFFERED = 1 << 20;

interface Client {
  socket: WebSocket;
  last: Record<MessageType, number>;
  timers: Partial<Record<MessageType, NodeJS.Timeout>>;
}

export class Hub {
  private readonly clients = new Set<Client>();
  private seq = 0;
  /** The serialised message of each type, rebuilt when the type changed since it was built. */
  private readonly cache = new Map<MessageType, { version: number; json: string }>();
  private readonly version: Record<MessageType, number> = { collection_status: 0, trader_state: 0, trades: 0, training: 0, alert: 0 };
  sent = 0;
  /** Shortest time between two messages of one type to one client, as sent (the throttle's floor). */
  minGapMs = Infinity;

  constructor(
    private readonly source: MessageSource,
    private readonly throttleMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.clients.size;
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
    const client: Client = { socket, last: { collection_status: t, trader_state: t, trades: t, training: t, alert: t }, timers: {} };
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
    if (client.socket.readyState !== 1 || client.socket.bufferedAmount > MAX_BUFFERED) return;
    client.socket.send(this.message(type));
    this.sent++;
  }

  /** A type's content changed: every client gets it now or at the end of its window. */
  offer(type: MessageType): void {
    this.version[type]++;
    const now = this.now();
    for (const client of this.clients) if (!client.timers[type]) this.sendOrWait(client, type, now);
  }

  private sendOrWait(client: Client, type: MessageType, now: number): void {
    const wait = client.last[type] + this.throttleMs - now;
    if (wait <= 0) return this.send(client, type);
    // timers may fire a millisecond early by the wall clock: re-check when it fires
    client.timers[type] = setTimeout(() => {
      delete client.timers[type];
      this.sendOrWait(client, type, this.now());
    }, wait);
  }

  close(): void {
    for (const c of [...this.clients]) {
      this.remove(c);
      c.socket.close(1001, 'server closing');
    }
  }
}
