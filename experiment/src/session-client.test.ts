import { describe, expect, it } from 'vitest';
import { SessionClient, type SocketLike } from './session-client';

/** A socket whose server side the test plays: records emits, answers pings, acks on demand. */
class FakeSocket implements SocketLike {
  connected = false;
  listeners = new Map<string, ((...a: any[]) => void)[]>();
  sent: { event: string; args: any[] }[] = [];
  serverOffset = 1000;
  now = 0;
  on(event: string, l: (...a: any[]) => void) {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), l]);
  }
  emit(event: string, ...args: any[]) {
    this.sent.push({ event, args });
    if (event === 'clock:ping') args[1](this.now + 2 + this.serverOffset); // 2 ms up, answered at once
    if (event === 'display:hello')
      args[1]({
        serverMs: 0,
        secret: args[0].secret ?? 'issued-1',
        role: 'display',
        triggerKey: '5',
        responseKeys: ['1'],
      });
  }
  fire(event: string) {
    for (const l of this.listeners.get(event) ?? []) l();
  }
  batches() {
    return this.sent.filter((s) => s.event === 'display:events');
  }
}

function memoryStorage() {
  const m = new Map<string, string>();
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v) };
}

describe('SessionClient', () => {
  it('estimates the clock offset from pings and converts both ways', async () => {
    const socket = new FakeSocket();
    let t = 0;
    const client = new SessionClient(socket, {
      now: () => (t += 2),
      hello: () => ({}) as never,
      setInterval: () => 0,
      syncBurst: 5,
    });
    socket.now = 0;
    socket.connected = true;
    socket.fire('connect');
    await new Promise((r) => setTimeout(r, 0));
    // Each ping: sent at t, answered (server clock) at t + 2 + 1000... see FakeSocket; received at t + 2.
    expect(client.offsetMs).not.toBeNull();
    expect(client.toDisplayMs(client.toServerMs(123))).toBe(123);
    expect(client.reply).toEqual({
      serverMs: 0,
      secret: 'issued-1',
      role: 'display',
      triggerKey: '5',
      responseKeys: ['1'],
    });
  });

  it('sends the secret the server gave at every later hello, also after a reload (storage)', async () => {
    const storage = memoryStorage();
    const socket = new FakeSocket();
    const options = { now: () => 0, hello: () => ({}) as never, storage, setInterval: () => 0, syncBurst: 0 };
    new SessionClient(socket, options);
    socket.connected = true;
    socket.fire('connect');
    socket.fire('connect'); // a reconnect
    const reloaded = new FakeSocket();
    new SessionClient(reloaded, options); // the page reloaded: a new client, same storage
    reloaded.connected = true;
    reloaded.fire('connect');
    const hellos = [...socket.sent, ...reloaded.sent].filter((x) => x.event === 'display:hello').map((x) => x.args[0]);
    expect(hellos.map((h) => h.secret)).toEqual([undefined, 'issued-1', 'issued-1']);
  });

  it('reports a run it cannot present', () => {
    const socket = new FakeSocket();
    const client = new SessionClient(socket, { now: () => 0, hello: () => ({}) as never, setInterval: () => 0 });
    client.sendFailed('run-1', 'could not load image /stimuli/2');
    expect(socket.sent.at(-1)).toEqual({
      event: 'display:failed',
      args: [{ runId: 'run-1', reason: 'could not load image /stimuli/2' }],
    });
  });

  it('keeps events until acknowledged, resends them after a reconnect, and survives a reload through storage', () => {
    const storage = memoryStorage();
    const socket = new FakeSocket();
    const client = new SessionClient(socket, {
      now: () => 0,
      hello: () => ({}) as never,
      storage,
      setInterval: () => 0,
    });
    client.runId = 'run-1';
    socket.connected = false;
    const a = client.send({ type: 'response', key: '1', eventMs: 1, serverMs: 2 });
    const b = client.send({ type: 'response', key: '2', eventMs: 3, serverMs: 4 });
    expect(a.id).not.toBe(b.id);
    expect(a.runId).toBe('run-1');
    expect(socket.batches()).toHaveLength(0); // offline: nothing sent, both buffered
    socket.connected = true;
    client.flush();
    const batch = socket.batches()[0]!;
    expect(batch.args[0].map((e: { id: string }) => e.id)).toEqual([a.id, b.id]);
    batch.args[1]([a.id]); // the server stored only the first
    expect(client.unacknowledged).toBe(1);
    // A reloaded page restores the unacknowledged event from storage and sends it again.
    const socket2 = new FakeSocket();
    socket2.connected = true;
    const reloaded = new SessionClient(socket2, {
      now: () => 0,
      hello: () => ({}) as never,
      storage,
      setInterval: () => 0,
    });
    expect(reloaded.unacknowledged).toBe(1);
    reloaded.flush();
    expect(socket2.batches()[0]!.args[0].map((e: { id: string }) => e.id)).toEqual([b.id]);
  });
});
