/**
 * LAN mode end to end: `orthostim serve --host 0.0.0.0 --token ...` reached through 127.0.0.1
 * only, its display in real headless Chromium. Every resource the display needs (page, script,
 * stylesheet, images, socket) must carry the credential: before, the images came back 401 and the
 * run stayed armed forever. A display that cannot load an image ends the arm as `failed`, with a
 * warning on the operator page.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { parseEventsTsv } from '@orthostim/protocol';
import { readStimulusSet } from '@orthostim/protocol/node';
import {
  hasChromium,
  launchChromium,
  sessionApi,
  startServe,
  until,
  writeTestStimulusSet,
  type ServeProcess,
} from '@orthostim/test';

const TOKEN = 'lan-test-token-0123456789';
const root = mkdtempSync(join(tmpdir(), 'orthostim-lan-'));
const config = {
  repetitions: 1,
  nullTrialFraction: 0.25,
  soaVolumes: 2,
  imageDurationMs: 400,
  leadInVolumes: 1,
  leadOutVolumes: 1,
  dummyVolumes: 1,
  fixation: { changesPerMinute: 0 },
};

let browser: Browser;
let server: ServeProcess;
/** The server as the display machine reaches it: 127.0.0.1 (the printed URL names 0.0.0.0). */
let base: string;
let setDir: string;

const { api } = sessionApi(() => base, TOKEN);

describe.skipIf(!hasChromium())('token (LAN) mode in headless Chromium', () => {
  beforeAll(async () => {
    setDir = await writeTestStimulusSet(join(root, 'set'), 3);
    writeFileSync(join(root, 'config.json'), JSON.stringify(config));
    server = await startServe([
      '--stimuli',
      setDir,
      '--data',
      join(root, 'data'),
      '--config',
      join(root, 'config.json'),
      '--port',
      '0',
      '--host',
      '0.0.0.0',
      '--token',
      TOKEN,
      '--emulate-scanner',
      '--tr',
      '0.5',
    ]);
    expect(server.url).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/);
    base = server.url.replace('0.0.0.0', '127.0.0.1');
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    server?.child.kill('SIGTERM');
    await server?.exited;
  });

  it('runs a whole session: every request of the display carries the credential', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    const refused: string[] = [];
    page.on('response', (r) => {
      if (r.status() >= 400) refused.push(`${r.status()} ${r.url()}`);
    });
    await page.goto(`${base}/display?token=${TOKEN}`);
    await until(
      () => api('GET', '/api/status'),
      (s) => s.display.connected,
    );
    const armed = await api('POST', '/api/runs', { participant: '01', run: 1 });
    const done = await until(
      () => api('GET', `/api/runs/${armed.id}`),
      (s) => s.state !== 'armed' && s.state !== 'running',
    );
    expect(done.state).toBe('finished');
    expect(done.trialsShown).toBe(done.trialsPlanned);
    expect(refused).toEqual([]);
    const rows = parseEventsTsv(readFileSync(done.eventsFile, 'utf8'), done.eventsFile);
    expect(rows.filter((r) => r.trial_type === 'missed')).toEqual([]);
    const sidecar = JSON.parse(readFileSync(done.eventsFile.replace(/\.tsv$/, '.json'), 'utf8'));
    expect(sidecar.Orthostim).toMatchObject({ runStatus: 'finished', complete: true });
    // Without the token nothing is answered, the socket included.
    expect((await fetch(`${base}/stimuli/0`)).status).toBe(401);
    expect((await fetch(`${base}/api/status`)).status).toBe(401);
    await page.close();
  });

  it('ends the arm as failed, with a warning, when the display cannot load an image', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    await page.goto(`${base}/display?token=${TOKEN}`);
    await until(
      () => api('GET', '/api/status'),
      (s) => s.display.connected,
    );
    rmSync(readStimulusSet(setDir).imagePaths[2]!); // the set's image 2 is gone (a disk unmounted, a file moved)
    const armed = await api('POST', '/api/runs', { participant: '01', run: 2 });
    const failed = await until(
      () => api('GET', `/api/runs/${armed.id}`),
      (s) => s.state !== 'armed',
      20_000,
    );
    expect(failed.state).toBe('failed');
    expect(failed.endReason).toMatch(/could not load image \/stimuli\/2$/);
    expect(readFileSync(failed.rawLog, 'utf8')).not.toContain(TOKEN); // the access token never reaches the log
    const status = await api('GET', '/api/status');
    expect(status.warnings.join('\n')).toMatch(new RegExp(`run ${armed.id} failed: .*could not load image`));
    expect(status.nextRun).toMatchObject({ run: 3 });
    await page.close();
  });
});
