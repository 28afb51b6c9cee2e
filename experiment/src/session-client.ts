import {
  estimateClockOffset,
  type ClockSample,
  type DisplayEvent,
  type DisplayHello,
  type DisplayReady,
  type HelloReply,
} from '@orthostim/protocol';

/** The part of a socket.io client socket the session client uses (tests pass a fake). */
export interface SocketLike {
  connected: boolean;
  on(event: string, listener: (...args: any[]) => void): unknown;
  emit(event: string, ...args: any[]): unknown;
}

/** Events as the display creates them: the client adds id and run. */
export type OutgoingEvent = DisplayEvent extends infer E
  ? E extends DisplayEvent
    ? Omit<E, 'id' | 'runId'>
    : never
  : never;

export interface SessionClientOptions {
  now: () => number;
  hello: () => Omit<DisplayHello, 'clientId'>;
  /** Where unacknowledged events survive a page reload (localStorage in the browser). */
  storage?: Pick<Storage, 'getItem' | 'setItem'> | null;
  /** Pings in the burst after each (re)connection. */
  syncBurst?: number;
  /** Interval of the background pings, ms. */
  syncIntervalMs?: number;
  setInterval?: (fn: () => void, ms: number) => unknown;
}

const STORAGE_KEY = 'orthostim.pending-events';
/** The secret the server gave this display: sent at each hello, so a reload or reconnect keeps the display's role. */
const SECRET_KEY = 'orthostim.display-secret';

/**
 * The display's end of the session socket. Every event gets a unique id and stays in a resend
 * buffer (mirrored to storage, so a reload does not lose it) until the server acknowledges it;
 * after a reconnect the whole buffer is sent again and the server drops what it already has.
 * Also keeps the clock-offset estimate from ping round trips (fastest ones, see protocol).
 */
export class SessionClient {
  readonly clientId: string;
  private counter = 0;
  private pending = new Map<string, DisplayEvent>();
  private samples: ClockSample[] = [];
  private offset: number | null = null;
  private minRtt: number | null = null;
  runId: string | null = null;
  reply: HelloReply | null = null;
  private secret: string | null = null;
  private onHello: ((reply: HelloReply) => void)[] = [];
  private onSynced: (() => void)[] = [];

  constructor(
    private readonly socket: SocketLike,
    private readonly o: SessionClientOptions,
  ) {
    this.clientId = `d${Math.floor(Math.random() * 2 ** 32).toString(36)}${Date.now().toString(36)}`;
    const saved = o.storage?.getItem(STORAGE_KEY);
    if (saved) {
      try {
        for (const e of JSON.parse(saved) as DisplayEvent[]) this.pending.set(e.id, e);
      } catch {
        // A corrupt buffer cannot be resent; start empty.
      }
    }
    socket.on('connect', () => void this.onConnect());
    (o.setInterval ?? setInterval)(() => {
      if (this.socket.connected) void this.ping().catch(() => {});
    }, o.syncIntervalMs ?? 1000);
  }

  /** Run `fn` once a clock-offset estimate exists (now, or after the next sync burst). */
  whenSynced(fn: () => void): void {
    if (this.offset !== null) fn();
    else this.onSynced.push(fn);
  }

  whenHello(fn: (reply: HelloReply) => void): void {
    this.onHello.push(fn);
    if (this.reply) fn(this.reply);
  }

  private async onConnect(): Promise<void> {
    const secret = this.secret ?? this.o.storage?.getItem(SECRET_KEY) ?? undefined;
    const hello = { clientId: this.clientId, ...this.o.hello(), ...(secret ? { secret } : {}) };
    this.socket.emit('display:hello', hello, (reply: HelloReply) => {
      this.reply = reply;
      this.secret = reply.secret;
      this.o.storage?.setItem(SECRET_KEY, reply.secret);
      for (const fn of this.onHello) fn(reply);
    });
    for (let i = 0; i < (this.o.syncBurst ?? 20); i++) await this.ping();
    this.flush();
    for (const fn of this.onSynced.splice(0)) fn();
  }

  async syncBurst(pings: number): Promise<void> {
    for (let i = 0; i < pings && this.socket.connected; i++) await this.ping();
  }

  /** One ping; resolves when its answer is in (or never, if the socket drops). */
  ping(): Promise<void> {
    return new Promise((resolve) => {
      const sentMs = this.o.now();
      this.socket.emit('clock:ping', sentMs, (serverMs: number) => {
        const receivedMs = this.o.now();
        this.samples.push({ sentMs, receivedMs, serverMs });
        if (this.samples.length > 200) this.samples.shift();
        const est = estimateClockOffset(this.samples);
        this.offset = est.offsetMs;
        this.minRtt = est.minRttMs;
        if (this.runId)
          this.send({
            type: 'clock_sync',
            sentMs,
            receivedMs,
            serverAnswerMs: serverMs,
            offsetMs: est.offsetMs,
            minRttMs: est.minRttMs,
          });
        resolve();
      });
    });
  }

  get offsetMs(): number | null {
    return this.offset;
  }
  get minRttMs(): number | null {
    return this.minRtt;
  }

  toServerMs(displayMs: number): number {
    if (this.offset === null) throw new Error('toServerMs: no clock-offset estimate yet (not connected)');
    return displayMs + this.offset;
  }

  toDisplayMs(serverMs: number): number {
    if (this.offset === null) throw new Error('toDisplayMs: no clock-offset estimate yet (not connected)');
    return serverMs - this.offset;
  }

  /** Queue an event (with a fresh id, for the current run) and send it if connected. */
  send(event: OutgoingEvent, runId: string | null = this.runId): DisplayEvent {
    const full = { ...event, id: `${this.clientId}-${++this.counter}`, runId } as DisplayEvent;
    this.pending.set(full.id, full);
    this.save();
    if (this.socket.connected) this.emit([full]);
    return full;
  }

  sendReady(ready: DisplayReady): void {
    this.socket.emit('display:ready', ready);
  }

  /** The run cannot be presented (an image failed to load): the server ends the arm as failed. */
  sendFailed(runId: string, reason: string): void {
    this.socket.emit('display:failed', { runId, reason: reason.slice(0, 512) });
  }

  /** Send everything not yet acknowledged (after a reconnect). */
  flush(): void {
    if (this.socket.connected && this.pending.size) this.emit([...this.pending.values()]);
  }

  get unacknowledged(): number {
    return this.pending.size;
  }

  private emit(batch: DisplayEvent[]): void {
    this.socket.emit('display:events', batch, (stored: string[]) => {
      for (const id of stored) this.pending.delete(id);
      this.save();
    });
  }

  private save(): void {
    this.o.storage?.setItem(STORAGE_KEY, JSON.stringify([...this.pending.values()]));
  }
}
