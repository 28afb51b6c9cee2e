/**
 * End to end: the real `orthostim serve` (scanner emulator, TR 0.5 s) and its display page in
 * real headless Chromium; runs are armed through the HTTP API and the events files read back.
 * Then the faults: a display reload, a dropped socket, and a killed and restarted server.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { parseEventsTsv, type EventsRow } from '@orthostim/protocol';
import {
  hasChromium,
  launchChromium,
  sessionApi,
  startServe,
  until,
  writeTestStimulusSet,
  type ServeProcess,
} from '@orthostim/test';

const TR = 0.5;
const root = mkdtempSync(join(tmpdir(), 'orthostim-e2e-'));
const data = join(root, 'data');
const config = {
  repetitions: 2,
  nullTrialFraction: 0.25,
  soaVolumes: 2,
  imageDurationMs: 400,
  leadInVolumes: 1,
  leadOutVolumes: 1,
  dummyVolumes: 1,
  fixation: { changesPerMinute: 12, minIntervalS: 2, responseWindowS: 1 },
};
const IMAGES = 3;

let browser: Browser;
let server: ServeProcess;
let serverArgs: string[];

const { api } = sessionApi(() => server.url);

async function openDisplay(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  await page.goto(server.displayUrl);
  await until(
    () => api('GET', '/api/status'),
    (s) => s.display.connected,
  );
  return page;
}

function readEvents(summary: Record<string, any>): { rows: EventsRow[]; sidecar: Record<string, any> } {
  return {
    rows: parseEventsTsv(readFileSync(summary.eventsFile, 'utf8'), summary.eventsFile),
    sidecar: JSON.parse(readFileSync(String(summary.eventsFile).replace(/\.tsv$/, '.json'), 'utf8')),
  };
}

function readLog(summary: Record<string, any>): Record<string, any>[] {
  return readFileSync(summary.rawLog, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
}

const trialRows = (rows: EventsRow[]) =>
  rows.filter((r) => r.trial_index !== null && r.trial_type !== 'fixation_change');

describe.skipIf(!hasChromium())('scanner session in headless Chromium', () => {
  beforeAll(async () => {
    const set = await writeTestStimulusSet(join(root, 'set'), IMAGES);
    writeFileSync(join(root, 'config.json'), JSON.stringify(config));
    serverArgs = [
      '--stimuli',
      set,
      '--data',
      data,
      '--config',
      join(root, 'config.json'),
      '--port',
      '0',
      '--emulate-scanner',
      '--tr',
      String(TR),
    ];
    server = await startServe(serverArgs);
    browser = await launchChromium();
  });
  afterEach(async () => {
    // A failed test must not leave its display presenting into the next run.
    for (const context of browser?.contexts() ?? []) await context.close();
  });
  afterAll(async () => {
    await browser?.close();
    server?.child.kill('SIGTERM');
    await server?.exited;
    rmSync(root, { recursive: true, force: true });
  });

  it('runs a full run locked to the emulated scanner and writes a correct events file', async () => {
    const page = await openDisplay();
    const armed = await api('POST', '/api/runs', { participant: '01', run: 1 });
    // A button press during the run (the fixation task's response key).
    await until(
      () => api('GET', `/api/runs/${armed.id}`),
      (s) => s.trialsShown >= 2,
    );
    await page.keyboard.press('1');
    const done = await until(
      () => api('GET', `/api/runs/${armed.id}`),
      (s) => s.state !== 'armed' && s.state !== 'running',
    );
    expect(done.state).toBe('finished');
    const { rows, sidecar } = readEvents(done);
    const log = readLog(done);
    const schedule = log[0]!.schedule;
    const trials = trialRows(rows);
    // One row per planned trial, in order, all shown.
    expect(trials.map((r) => r.trial_index)).toEqual(schedule.trials.map((t: { index: number }) => t.index));
    expect(trials.every((r) => r.trial_type !== 'missed')).toBe(true);
    // Every image exactly `repetitions` times; no image twice in a row.
    const images = trials.filter((r) => r.trial_type !== 'null').map((r) => r.trial_type);
    for (let i = 1; i <= IMAGES; i++)
      expect(images.filter((id) => id === `stim-0${i}`)).toHaveLength(config.repetitions);
    for (let i = 1; i < images.length; i++) expect(images[i]).not.toBe(images[i - 1]);
    // Onsets within one frame + 5 ms of the plan.
    const frameMs = 1000 / sidecar.StimulusPresentation.ScreenRefreshRate;
    for (const r of trials) expect(Math.abs(r.onset - r.planned_onset!) * 1000).toBeLessThan(frameMs + 5);
    // Image rows point at the copied stimuli.
    for (const r of trials.filter((x) => x.trial_type !== 'null'))
      expect(r.stim_file).toMatch(/^orthostim-[0-9a-f]{12}\/images\/stim-0\d\.png$/);
    // As many triggers logged as the emulator sent: dummies + every volume of the run.
    expect(log.filter((r) => r.type === 'trigger')).toHaveLength(config.dummyVolumes + schedule.totalVolumes);
    expect(done.triggers).toBe(config.dummyVolumes + schedule.totalVolumes);
    expect(rows.filter((r) => r.trial_type === 'response').map((r) => r.response_key)).toEqual(['1']);
    expect(sidecar.Orthostim).toMatchObject({
      runStatus: 'finished',
      complete: true,
      missedTriggers: 0,
      extraTriggers: 0,
    });
    await page.close();
  });

  it('survives a display reload and a dropped socket: nothing logged is lost, the file says what happened', async () => {
    const page = await openDisplay();
    const armed = await api('POST', '/api/runs', { participant: '01', run: 2 });
    await until(
      () => api('GET', `/api/runs/${armed.id}`),
      (s) => s.trialsShown >= 2,
    );
    // Drop the socket: the client reconnects and resends what was not acknowledged.
    await page.evaluate(() => (window as any).orthostim.socket.io.engine.close());
    await until(
      () => api('GET', `/api/runs/${armed.id}`),
      (s) => s.trialsShown >= 4,
    );
    const shownBeforeReload = (await api('GET', `/api/runs/${armed.id}`)).trialsShown;
    await page.reload();
    const done = await until(
      () => api('GET', `/api/runs/${armed.id}`),
      (s) => s.state !== 'armed' && s.state !== 'running',
    );
    expect(done.state).toBe('finished');
    const { rows, sidecar } = readEvents(done);
    const log = readLog(done);
    const schedule = log[0]!.schedule;
    const trials = trialRows(rows);
    // Still one row per planned trial (shown, or marked missed while the page reloaded), no duplicates.
    expect(trials.map((r) => r.trial_index)).toEqual(schedule.trials.map((t: { index: number }) => t.index));
    const shown = trials.filter((r) => r.trial_type !== 'missed');
    expect(shown.length).toBeGreaterThanOrEqual(shownBeforeReload);
    // Every onset the server logged became a row (the resend did not duplicate any).
    const onsetIds = log.filter((r) => r.type === 'display' && r.event.type === 'onset').map((r) => r.event.trialIndex);
    expect(new Set(onsetIds).size).toBe(onsetIds.length);
    expect(shown.map((r) => r.trial_index).sort()).toEqual([...onsetIds].sort());
    expect(rows.filter((r) => r.trial_type === 'display_disconnected').length).toBeGreaterThanOrEqual(2);
    expect(rows.filter((r) => r.trial_type === 'display_connected').length).toBeGreaterThanOrEqual(2);
    // Triggers kept coming while the display was away: all logged.
    expect(done.triggers).toBe(config.dummyVolumes + schedule.totalVolumes);
    expect(sidecar.Orthostim.faults.map((f: { type: string }) => f.type)).toContain('display_disconnected');
    await page.close();
  });

  it('keeps the raw log when the server is killed; on restart the run is reported and closed as incomplete', async () => {
    const page = await openDisplay();
    const armed = await api('POST', '/api/runs', { participant: '01', run: 3 });
    await until(
      () => api('GET', `/api/runs/${armed.id}`),
      (s) => s.trialsShown >= 3,
    );
    server.child.kill('SIGKILL');
    await server.exited;
    const before = readFileSync(armed.rawLog, 'utf8');
    const port = new URL(server.url).port;
    server = await startServe(serverArgs.map((a) => (a === '0' ? port : a)));
    expect(server.output()).toMatch(new RegExp(`interrupted run ${armed.id}: closed as incomplete`));
    const summary = await api('GET', `/api/runs/${armed.id}`);
    expect(summary.state).toBe('incomplete');
    const after = readFileSync(armed.rawLog, 'utf8');
    // Append-only: everything logged before the kill is still there, unchanged.
    expect(after.startsWith(before)).toBe(true);
    const { rows, sidecar } = readEvents(summary);
    const log = readLog(summary);
    const onsetIds = log.filter((r) => r.type === 'display' && r.event.type === 'onset').map((r) => r.event.trialIndex);
    expect(onsetIds.length).toBeGreaterThanOrEqual(3);
    expect(
      trialRows(rows)
        .filter((r) => r.trial_type !== 'missed')
        .map((r) => r.trial_index)
        .sort(),
    ).toEqual([...onsetIds].sort());
    expect(rows.some((r) => r.trial_type === 'log_ends')).toBe(true);
    expect(sidecar.Orthostim).toMatchObject({ runStatus: 'incomplete', complete: false });
    // The display reconnects to the restarted server, and the next run index can be armed.
    await until(
      () => api('GET', '/api/status'),
      (s) => s.display.connected,
    );
    expect((await api('GET', '/api/status')).nextRun).toMatchObject({ participant: '01', run: 4 });
    await page.close();
  });
});
