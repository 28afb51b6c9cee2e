import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io as connect } from 'socket.io-client';
import { defaultSessionConfig } from '@orthostim/protocol';
import { readStimulusSet, type LoadedStimulusSet } from '@orthostim/protocol/node';
import { writeTestStimulusSet } from '@orthostim/test';
import { FakeClock } from '../clock';
import { RelayedTriggerSource } from '../triggers';
import { startSessionServer, STATIC_DIR, type SessionServer } from './server';
import { resolveInside } from './static-files';
import { isLoopbackHost } from './auth';

const root = mkdtempSync(join(tmpdir(), 'orthostim-http-'));
let stimuli: LoadedStimulusSet;
let open: SessionServer; // loopback, no token
let locked: SessionServer; // with a token

beforeAll(async () => {
  stimuli = readStimulusSet(await writeTestStimulusSet(join(root, 'set'), 3));
  const common = {
    stimuli,
    config: defaultSessionConfig(),
    clock: new FakeClock(),
    version: 'test',
    fsync: false,
    port: 0,
  };
  open = await startSessionServer({
    ...common,
    dataDir: join(root, 'open'),
    triggerSource: new RelayedTriggerSource('scripted', 'script'),
  });
  locked = await startSessionServer({
    ...common,
    dataDir: join(root, 'locked'),
    triggerSource: new RelayedTriggerSource('scripted', 'script'),
    token: 'sekret-token',
  });
});
afterAll(async () => {
  await open?.close();
  await locked?.close();
  rmSync(root, { recursive: true, force: true });
});

async function api(
  server: SessionServer,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json().catch(() => null)) as Record<string, any> | null };
}

describe('HTTP API', () => {
  it('arms, reads and aborts a run as documented', async () => {
    const armed = await api(open, 'POST', '/api/runs', { participant: '01', session: 'pre', run: 1 });
    expect(armed.status).toBe(201);
    expect(armed.json).toMatchObject({
      id: 'sub-01_ses-pre_task-orthostim_run-1',
      state: 'armed',
      participant: '01',
      session: 'pre',
      task: 'orthostim',
      run: 1,
      triggers: 0,
      trialsShown: 0,
      responses: 0,
      eventsFile: null,
    });
    expect(armed.json!.trialsPlanned).toBe(16); // 3 images x 4 repetitions = 12, plus 4 null (25% of 16)
    const got = await api(open, 'GET', `/api/runs/${armed.json!.id}`);
    expect(got.status).toBe(200);
    expect(Object.keys(got.json!)).toEqual(
      expect.arrayContaining([
        'id',
        'state',
        'participant',
        'session',
        'task',
        'run',
        'triggers',
        'trialsPlanned',
        'trialsShown',
        'responses',
        'eventsFile',
      ]),
    );
    const status = await api(open, 'GET', '/api/status');
    expect(status.json).toMatchObject({
      display: { connected: false },
      trigger: { kind: 'scripted' },
      run: { id: armed.json!.id, state: 'armed' },
    });
    const aborted = await api(open, 'POST', `/api/runs/${armed.json!.id}/abort`);
    expect(aborted.status).toBe(200);
    expect(aborted.json).toMatchObject({
      state: 'aborted',
      eventsFile: expect.stringContaining('sub-01_ses-pre_task-orthostim_run-1_events.tsv'),
    });
    expect((await api(open, 'POST', '/api/runs', { participant: '01', session: 'pre', run: 1 })).status).toBe(400);
  });

  it('answers 400 with a message for bad labels and bodies, 404 for unknown runs', async () => {
    const cases: [unknown, RegExp][] = [
      [{ participant: '../../etc', run: 1 }, /participant: a BIDS label .* got "..\/..\/etc"/],
      [{ participant: '01', task: 'my task', run: 1 }, /task: a BIDS label .* got "my task"/],
      [{ participant: '01', session: 'a-b', run: 1 }, /session: a BIDS label/],
      [{ participant: '01', run: 1.5 }, /body field run/],
      [{ participant: '01' }, /body field run/],
      [{ participant: 1, run: 1 }, /body field participant/],
      [{ participant: '01', run: 1, extra: true }, /body field/],
      ['{"participant": ', /not valid JSON/],
    ];
    for (const [body, message] of cases) {
      const r = await api(open, 'POST', '/api/runs', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json!.error).toMatch(message);
    }
    expect((await api(open, 'POST', '/api/runs', { participant: 'x'.repeat(20_000), run: 1 })).status).toBe(413);
    expect((await api(open, 'GET', '/api/runs/nope')).status).toBe(404);
    expect((await api(open, 'POST', '/api/runs/nope/abort')).status).toBe(404);
  });
});

describe('token', () => {
  it('is required on API calls, pages and the socket when set', async () => {
    expect((await api(locked, 'GET', '/api/status')).status).toBe(401);
    expect((await api(locked, 'GET', '/api/status', undefined, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await api(locked, 'GET', '/api/status', undefined, { authorization: 'Bearer sekret-token' })).status).toBe(
      200,
    );
    expect((await fetch(`${locked.url}/display`)).status).toBe(401);
    expect((await fetch(`${locked.url}/operator?token=wrong`)).status).toBe(401);
    expect((await fetch(`${locked.url}/stimuli/0`)).status).toBe(401);
    const page = await fetch(locked.displayUrl);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('/app.js?token=sekret-token');
    const socketResult = (token: string | undefined) =>
      new Promise<string>((resolve) => {
        const s = connect(locked.url, {
          auth: { role: 'display', token },
          transports: ['websocket'],
          reconnection: false,
        });
        s.on('connect', () => (s.close(), resolve('connected')));
        s.on('connect_error', (e) => (s.close(), resolve(e.message)));
      });
    expect(await socketResult(undefined)).toBe('missing or wrong access token');
    expect(await socketResult('sekret-token')).toBe('connected');
  });
  it('is not needed on loopback, and refused off loopback without one', async () => {
    expect((await api(open, 'GET', '/api/status')).status).toBe(200);
    expect(isLoopbackHost('127.0.0.1') && isLoopbackHost('::1') && !isLoopbackHost('0.0.0.0')).toBe(true);
    await expect(
      startSessionServer({
        stimuli,
        config: defaultSessionConfig(),
        dataDir: join(root, 'x'),
        triggerSource: new RelayedTriggerSource('scripted', 's'),
        host: '0.0.0.0',
        version: 't',
      }),
    ).rejects.toThrow(/needs an access token/);
  });
});

describe('static serving', () => {
  it('serves its files and images by index, and never leaves its folders', async () => {
    expect((await fetch(`${open.url}/static/operator.js`)).status).toBe(200);
    expect((await fetch(`${open.url}/stimuli/2`)).headers.get('content-type')).toBe('image/png');
    for (const p of [
      '/static/..%2f..%2fpackage.json',
      '/static/%2e%2e/%2e%2e/package.json',
      '/static/..%5c..%5cpackage.json',
      '/static/%00operator.js',
      '/stimuli/3',
      '/stimuli/-1',
      '/stimuli/..%2fstimulus-set.json',
    ]) {
      const res = await fetch(`${open.url}${p}`);
      expect(res.status, p).toBe(404);
    }
    expect(resolveInside(STATIC_DIR, '../package.json')).toBeNull();
    expect(resolveInside(STATIC_DIR, '/etc/passwd')).toBe(null);
    expect(resolveInside(STATIC_DIR, 'operator.js')).toBe(join(STATIC_DIR, 'operator.js'));
  });
});
