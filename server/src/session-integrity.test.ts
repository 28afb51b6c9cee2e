/**
 * Who may write a run, and what the server accepts from the run's own display: each case here
 * was accepted by the server before runs were bound to their display (issue #14, item 1).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseEventsTsv } from '@orthostim/protocol';
import { readStimulusSet, type LoadedStimulusSet } from '@orthostim/protocol/node';
import { writeTestStimulusSet } from '@orthostim/test';
import { readRunLog } from './run-log';
import { makeTestSession, onsetEvent, playRun, testHello } from './test-session';

let stimuli: LoadedStimulusSet;
const root = mkdtempSync(join(tmpdir(), 'orthostim-integrity-'));
beforeAll(async () => {
  stimuli = readStimulusSet(await writeTestStimulusSet(join(root, 'set'), 3));
});

const sidecarOf = (eventsFile: string) => JSON.parse(readFileSync(eventsFile.replace(/\.tsv$/, '.json'), 'utf8'));

describe('a run is written only by its display', () => {
  it('refuses and logs every display event from a connection that never said hello', async () => {
    const warnings: string[] = [];
    const t = makeTestSession(join(root, 'foreign'), stimuli, { kind: 'keyboard', warnings });
    await t.session.start();
    t.session.displayHello('display', testHello);
    const armed = t.session.arm({ participant: '01', run: 1, seed: 5 });
    const ready = { runId: armed.id, refreshHz: 60, framePeriodMs: 16.7, imagesLoaded: 3 };
    t.session.displayReadyEvent('evil', ready);
    const now = t.clock.now();
    const forged = [
      { id: 'k', runId: null, type: 'key_trigger', eventMs: 0, serverMs: now },
      onsetEvent('o', armed.id, 0, now + 96_000),
      { id: 'r', runId: armed.id, type: 'response', key: '1', eventMs: 0, serverMs: -1e9 },
      { id: 'f', runId: armed.id, type: 'focus', focused: false, visible: false, eventMs: 0, serverMs: now },
      { id: 'c', runId: armed.id, type: 'complete', trialsShown: 16, serverMs: now },
    ];
    for (const e of forged) expect(t.session.displayEvents('evil', [e]).stored).toEqual([]);
    t.session.displayFailedEvent('evil', { runId: armed.id, reason: 'forged' });
    // Nothing reached the run: no ready, no trigger started it, no onset, the display still focused.
    const status = t.session.status();
    expect(status.run).toMatchObject({ id: armed.id, state: 'armed', triggers: 0, trialsShown: 0, responses: 0 });
    expect(status.display).toMatchObject({ readyForRun: null, focused: true, visible: true, refusedFromOthers: 7 });
    expect(status.warnings.join('\n')).toMatch(/7 display event\(s\) from other connections refused/);
    const refused = readRunLog(armed.rawLog).filter((r) => r.type === 'refused');
    expect(refused).toHaveLength(7);
    expect(refused.every((r) => r.type === 'refused' && r.source === 'other')).toBe(true);
    expect(readRunLog(armed.rawLog).some((r) => r.type === 'display' || r.type === 'display_ready')).toBe(false);
    expect(warnings.filter((w) => w.startsWith('refused from connection evil'))).toHaveLength(7);
    // The same events from the display itself are taken (the key trigger reaches the trigger source).
    expect(t.session.displayEvents('display', [forged[0]!]).stored).toEqual(['k']);
    expect(t.session.status().trigger.count).toBe(1);
    await t.session.stop();
  });

  it("an onset injected by another connection does not replace the display's (first onset wins)", async () => {
    const t = makeTestSession(join(root, 'injected'), stimuli);
    await t.session.start();
    t.session.displayHello('display', testHello);
    const armed = t.session.arm({ participant: '01', run: 1, seed: 5 });
    const run = t.display.announced.at(-1)!;
    const t0 = t.clock.now() + 3000;
    const first = run.schedule.trials[0]!;
    for (let k = -2; k <= first.onsetVolume; k++) {
      t.clock.advance(t0 + k * 1000 - t.clock.now());
      t.source.push(t.clock.now());
    }
    const planned = t0 + first.onsetS * 1000;
    t.session.displayEvents('intruder', [onsetEvent('i0', armed.id, 0, planned + 700)]);
    t.session.displayEvents('display', [onsetEvent('d0', armed.id, 0, planned + 4)]);
    t.session.abort(armed.id);
    const rows = parseEventsTsv(readFileSync(t.session.summary(armed.id)!.eventsFile!, 'utf8'), 'e');
    const row = rows.find((r) => r.trial_index === 0 && r.trial_type !== 'fixation_change')!;
    expect(row.onset).toBeCloseTo(first.onsetS + 0.004, 6);
  });

  it('a client flooding the socket is counted, but fills the run log with at most 200 records', async () => {
    const t = makeTestSession(join(root, 'flood'), stimuli);
    await t.session.start();
    const armed = t.session.arm({ participant: '01', run: 1, seed: 5 });
    for (let i = 0; i < 250; i++)
      t.session.displayEvents('flood', [
        { id: `f${i}`, runId: armed.id, type: 'complete', trialsShown: 1, serverMs: 0 },
      ]);
    expect(t.session.status().display.refusedFromOthers).toBe(250);
    expect(readRunLog(armed.rawLog).filter((r) => r.type === 'refused')).toHaveLength(200);
  });

  it('binds the run to the display armed with: a rejoin with its secret writes, a second display cannot', async () => {
    const t = makeTestSession(join(root, 'second'), stimuli);
    await t.session.start();
    const first = t.session.displayHello('a1', testHello);
    expect(first.role).toBe('display');
    const armed = t.session.arm({ participant: '01', run: 1, seed: 5 });
    // Another page opens the display URL: it is listed, and cannot write.
    const other = t.session.displayHello('b1', { ...testHello, clientId: 'c2' });
    expect(other.role).toBe('second-display');
    expect(other.secret).not.toBe(first.secret);
    expect(t.session.status().display.secondDisplays).toEqual([{ clientId: 'c2', userAgent: 'test' }]);
    expect(t.session.status().warnings.join('\n')).toMatch(/1 other display page\(s\) connected \(c2\)/);
    // The display reloads: it comes back with its secret and keeps its role; the second one, even
    // with the display gone for a moment, never takes the run over.
    t.session.displayGone('a1');
    expect(t.session.displayHello('b2', { ...testHello, clientId: 'c2', secret: other.secret }).role).toBe(
      'second-display',
    );
    expect(t.session.displayHello('x1', { ...testHello, clientId: 'c3', secret: 'guessed' }).role).toBe(
      'second-display',
    );
    const back = t.session.displayHello('a2', { ...testHello, clientId: 'c1-reloaded', secret: first.secret });
    expect(back).toEqual({ secret: first.secret, role: 'display' });
    playRun(t, 'b2'); // the second display plays the whole run: all refused
    expect(t.session.summary(armed.id)).toMatchObject({ trialsShown: 0 });
    await t.session.stop();
    const t2 = makeTestSession(join(root, 'second-ok'), stimuli);
    await t2.session.start();
    const d = t2.session.displayHello('a1', testHello);
    const run = t2.session.arm({ participant: '01', run: 1, seed: 5 });
    t2.session.displayGone('a1');
    t2.session.displayHello('a2', { ...testHello, secret: d.secret });
    playRun(t2, 'a2');
    const done = t2.session.summary(run.id)!;
    expect(done).toMatchObject({ state: 'finished', trialsShown: done.trialsPlanned, refusedEvents: 0 });
    expect(sidecarOf(done.eventsFile!).Orthostim.complete).toBe(true);
  });

  it('refuses onsets before time zero, far from plan or out of order; such a run is never complete', async () => {
    const t = makeTestSession(join(root, 'onsets'), stimuli);
    await t.session.start();
    t.session.displayHello('d', testHello);
    const armed = t.session.arm({ participant: '01', run: 1, seed: 5 });
    const early = t.session.displayEvents('d', [onsetEvent('early', armed.id, 0, t.clock.now())]);
    expect(early.stored).toEqual(['early']); // acknowledged (no resend), but refused
    const run = t.display.announced.at(-1)!;
    const t0 = t.clock.now() + 3000;
    const trial = (i: number) => run.schedule.trials[i]!;
    // Up to the third trial's volume, then: trial 2 on plan, trial 1 after it, trial 3 96 s off plan.
    for (let k = -2; k <= trial(2).onsetVolume; k++) {
      t.clock.advance(t0 + k * 1000 - t.clock.now());
      t.source.push(t.clock.now());
    }
    const at = (i: number) => t0 + trial(i).onsetS * 1000;
    for (const i of [0, 1, 2]) t.session.displayEvents('d', [onsetEvent(`on${i}`, armed.id, i, at(i) + 4)]);
    const forged = [
      onsetEvent('again2', armed.id, 2, at(2) + 5),
      onsetEvent('off3', armed.id, 3, at(3) - 1500),
      onsetEvent('before2', armed.id, 3, at(2) - 100),
      onsetEvent('far3', armed.id, 3, at(3) + 96_000),
    ];
    for (const e of forged) t.session.displayEvents('d', [e]);
    const reasons = readRunLog(armed.rawLog).flatMap((r) => (r.type === 'refused' ? [r.reason] : []));
    expect(reasons).toEqual([
      expect.stringMatching(/onset of trial 0 before the run's start/),
      expect.stringMatching(/second onset of trial 2/),
      expect.stringMatching(/onset of trial 3 is -1\.500 s from its planned time/),
      expect.stringMatching(/onset of trial 3 out of order \(trial 2 was shown before it\)/),
      expect.stringMatching(/onset at server time \d+ ms is outside the run/),
    ]);
    expect(t.session.summary(armed.id)).toMatchObject({ trialsShown: 3, refusedEvents: 5 });
    expect(t.session.status().warnings.join('\n')).toMatch(/5 display event\(s\) refused/);
    // The display then shows every other trial on plan: the run finishes with all trials shown, yet is not complete.
    for (let k = trial(2).onsetVolume + 1; k < run.schedule.totalVolumes; k++) {
      t.clock.advance(t0 + k * 1000 - t.clock.now());
      t.source.push(t.clock.now());
      for (const x of run.schedule.trials.filter((y) => y.onsetVolume === k))
        t.session.displayEvents('d', [onsetEvent(`late${x.index}`, armed.id, x.index, at(x.index) + 4)]);
    }
    t.clock.advance(20_000);
    const done = t.session.summary(armed.id)!;
    expect(done).toMatchObject({ state: 'finished', trialsShown: done.trialsPlanned });
    const sidecar = sidecarOf(done.eventsFile!);
    expect(sidecar.Orthostim).toMatchObject({
      complete: false,
      refusedEvents: { fromDisplay: 5, fromOtherConnections: 0 },
    });
    // Trial 3's row is the onset on plan, not any of the refused ones.
    const row3 = parseEventsTsv(readFileSync(done.eventsFile!, 'utf8'), 'e').find(
      (r) => r.trial_index === 3 && r.trial_type !== 'fixation_change',
    )!;
    expect(row3.onset).toBeCloseTo(trial(3).onsetS + 0.004, 6);
  });

  it('ends an arm whose display cannot load an image as failed, with a warning', async () => {
    const t = makeTestSession(join(root, 'failed'), stimuli);
    await t.session.start();
    t.session.displayHello('d', testHello);
    const armed = t.session.arm({ participant: '01', run: 1, seed: 5 });
    t.session.displayFailedEvent('d', { runId: armed.id, reason: 'could not load image /stimuli/1' });
    const s = t.session.summary(armed.id)!;
    expect(s).toMatchObject({ state: 'failed', endReason: expect.stringMatching(/could not load image \/stimuli\/1/) });
    expect(t.display.ended).toEqual([{ runId: armed.id, state: 'failed' }]);
    expect(t.session.status().warnings.join('\n')).toMatch(/run .* failed: .*could not load image/);
    expect(sidecarOf(s.eventsFile!).Orthostim).toMatchObject({ runStatus: 'failed', complete: false });
    // The next run can be armed at once.
    expect(t.session.arm({ participant: '01', run: 2 }).state).toBe('armed');
  });
});
