/**
 * What a page on another site, a rebinding DNS name, or a client that is not the display can do to
 * `orthostim serve`: each request here was answered before (issue #14, items 1, 2 and 6).
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { hostname, networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io as connect, type Socket } from 'socket.io-client';
import { defaultSessionConfig } from '@orthostim/protocol';
import { readStimulusSet, resolveInside, type LoadedStimulusSet } from '@orthostim/protocol/node';
import { writeTestStimulusSet } from '@orthostim/test';
import { FakeClock } from '../clock';
import { RelayedTriggerSource } from '../triggers';
import { startSessionServer, type SessionServer } from './server';

const root = mkdtempSync(join(tmpdir(), 'orthostim-guard-'));
let stimuli: LoadedStimulusSet;
let open: SessionServer; // loopback, no token
let locked: SessionServer; // with a token, and an extra allowed host name

function start(name: string, extra: { token?: string; allowedHosts?: string[] } = {}) {
  return startSessionServer({
    stimuli,
    config: defaultSessionConfig(),
    clock: new FakeClock(),
    version: 'test',
    fsync: false,
    port: 0,
    dataDir: join(root, name),
    triggerSource: new RelayedTriggerSource('keyboard', 'keyboard'),
    ...extra,
  });
}

beforeAll(async () => {
  stimuli = readStimulusSet(await writeTestStimulusSet(join(root, 'set'), 3));
  open = await start('open');
  locked = await start('locked', { token: 'sekret', allowedHosts: ['scanner-pc.lab'] });
});
afterAll(async () => {
  await open?.close();
  await locked?.close();
});

/** A raw HTTP request (fetch cannot set Host). */
function raw(
  server: SessionServer,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const u = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method, path, headers }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body: text, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const armBody = JSON.stringify({ participant: '01', run: 1 });

describe('Origin, Host and content type', () => {
  it('refuses a cross-site abort (text/plain, or any foreign Origin), and answers the operator page', async () => {
    const armed = await raw(open, 'POST', '/api/runs', { 'content-type': 'application/json' }, armBody);
    expect(armed.status).toBe(201);
    const id = JSON.parse(armed.body).id as string;
    const host = new URL(open.url).host;
    const csrf = await raw(open, 'POST', `/api/runs/${id}/abort`, { 'content-type': 'text/plain' });
    expect(csrf.status).toBe(415);
    const foreign = await raw(open, 'POST', `/api/runs/${id}/abort`, {
      'content-type': 'application/json',
      origin: 'http://evil.example',
    });
    expect(foreign.status).toBe(403);
    expect(JSON.parse(foreign.body).error).toMatch(/cross-origin request from "http:\/\/evil.example" refused/);
    expect(open.session.summary(id)!.state).toBe('armed');
    // The operator page itself (same origin) and curl (no Origin) may abort.
    const own = await raw(open, 'POST', `/api/runs/${id}/abort`, {
      'content-type': 'application/json',
      origin: `http://${host}`,
    });
    expect(own.status).toBe(200);
    expect(JSON.parse(own.body).state).toBe('aborted');
  });

  it('answers only Host names of this machine or allowed ones (DNS rebinding)', async () => {
    const port = new URL(open.url).port;
    for (const path of ['/api/status', '/display', '/stimuli/0', '/static/operator.js']) {
      const r = await raw(open, 'GET', path, { host: `rebind.evil.example:${port}` });
      expect(r.status, path).toBe(403);
      expect(JSON.parse(r.body).error).toMatch(/host "rebind.evil.example" is not one this server answers to/);
    }
    // This machine by any of its names: loopback, its hostname, an interface address.
    const lan = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && !a.internal && a.family === 'IPv4');
    for (const name of ['localhost', hostname(), ...(lan ? [lan.address] : [])])
      expect((await raw(open, 'GET', '/api/status', { host: `${name}:${port}` })).status, name).toBe(200);
    const lockedPort = new URL(locked.url).port;
    const auth = { authorization: 'Bearer sekret' };
    expect((await raw(locked, 'GET', '/api/status', { ...auth, host: `scanner-pc.lab:${lockedPort}` })).status).toBe(
      200,
    );
    expect((await raw(locked, 'GET', '/api/status', { ...auth, host: `other.lab:${lockedPort}` })).status).toBe(403);
  });

  it('answers malformed percent-encoding with 400, not 500', async () => {
    for (const path of ['/stimuli/%ff', '/api/runs/%E0%A4%A', '/static/%E0%A4%A']) {
      const r = await raw(open, 'GET', path);
      expect(r.status, path).toBe(400);
      expect(r.body).not.toMatch(/\bat .*\.ts:\d+/);
    }
  });

  it('refuses a WebSocket from a foreign Origin', async () => {
    const result = await new Promise<string>((resolve) => {
      const s = connect(open.url, {
        transports: ['websocket'],
        reconnection: false,
        extraHeaders: { origin: 'http://evil.example' },
      });
      s.on('connect', () => (s.close(), resolve('connected')));
      s.on('connect_error', () => (s.close(), resolve('refused')));
    });
    expect(result).toBe('refused');
  });
});

describe('token mode', () => {
  it('sets a cookie from ?token= that the images, scripts and socket then carry', async () => {
    const page = await raw(locked, 'GET', '/display?token=sekret');
    expect(page.status).toBe(200);
    const cookie = String((page.headers['set-cookie'] as string[])[0]).split(';')[0]!;
    expect(cookie).toBe('orthostim_token=sekret');
    expect(String((page.headers['set-cookie'] as string[])[0])).toMatch(
      /HttpOnly.*SameSite=Strict|SameSite=Strict.*HttpOnly/,
    );
    expect((await raw(locked, 'GET', '/stimuli/0')).status).toBe(401);
    expect((await raw(locked, 'GET', '/stimuli/0', { cookie })).status).toBe(200);
    expect((await raw(locked, 'GET', '/stimuli/0', { cookie: 'orthostim_token=wrong' })).status).toBe(401);
    const viaCookie = await new Promise<string>((resolve) => {
      const s = connect(locked.url, { transports: ['websocket'], reconnection: false, extraHeaders: { cookie } });
      s.on('connect', () => (s.close(), resolve('connected')));
      s.on('connect_error', (e) => (s.close(), resolve(e.message)));
    });
    expect(viaCookie).toBe('connected');
  });
});

describe('a socket that never said hello', () => {
  it('cannot make the display ready, trigger, or write onsets, responses, focus or completion', async () => {
    const server = await start('foreign-socket');
    const armed = server.session.arm({ participant: '01', run: 1 });
    const s: Socket = connect(server.url, { transports: ['websocket'], reconnection: false });
    await new Promise<void>((r) => s.on('connect', () => r()));
    s.emit('display:ready', { runId: armed.id, refreshHz: 60, framePeriodMs: 16.7, imagesLoaded: 3 });
    const acked = await s.emitWithAck('display:events', [
      { id: 'k', runId: null, type: 'key_trigger', eventMs: 0, serverMs: 1000 },
      { id: 'o', runId: armed.id, type: 'onset', trialIndex: 0, kind: 'image', frameMs: 0, serverMs: 97_000 },
      { id: 'r', runId: armed.id, type: 'response', key: '1', eventMs: 0, serverMs: -1e9 },
      { id: 'f', runId: armed.id, type: 'focus', focused: false, visible: false, eventMs: 0, serverMs: 1000 },
      { id: 'c', runId: armed.id, type: 'complete', trialsShown: 16, serverMs: 1000 },
    ]);
    expect(acked).toEqual([]);
    s.close();
    const status = server.session.status();
    expect(status.run).toMatchObject({ state: 'armed', triggers: 0, trialsShown: 0, responses: 0, refusedEvents: 2 });
    expect(status.display).toMatchObject({ readyForRun: null, focused: true, connected: false });
    expect(status.trigger.count).toBe(0);
    await server.close();
  });
});

describe('symlinks', () => {
  it('refuses to serve or copy a stimulus image that links out of the set', async () => {
    const dir = await writeTestStimulusSet(join(root, 'linked-set'), 3);
    const loaded = readStimulusSet(dir);
    const outside = join(root, 'outside.png');
    copyFileSync(loaded.imagePaths[1]!, outside);
    rmSync(loaded.imagePaths[1]!);
    symlinkSync(outside, loaded.imagePaths[1]!);
    await expect(
      startSessionServer({
        stimuli: loaded,
        config: defaultSessionConfig(),
        dataDir: join(root, 'linked'),
        triggerSource: new RelayedTriggerSource('scripted', 's'),
        port: 0,
        version: 't',
      }),
    ).rejects.toThrow(/image 1 .* resolves to a file outside the set's folder/);
  });

  it('static files resolve inside their folder, symlinks included', () => {
    const dir = join(root, 'static');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(join(dir, 'a.js'), 'a');
    writeFileSync(join(root, 'secret.txt'), 'secret');
    symlinkSync(join(root, 'secret.txt'), join(dir, 'leak.js'));
    symlinkSync(root, join(dir, 'sub', 'up'));
    symlinkSync(join(dir, 'a.js'), join(dir, 'sub', 'alias.js'));
    expect(resolveInside(dir, 'leak.js')).toBeNull();
    expect(resolveInside(dir, 'sub/up/secret.txt')).toBeNull();
    expect(resolveInside(dir, 'sub/alias.js')).toBe(join(dir, 'a.js'));
    expect(resolveInside(dir, 'a.js')).toBe(join(dir, 'a.js'));
  });
});
