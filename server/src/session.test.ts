import { mkdtempSync, readFileSync, existsSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  defaultSessionConfig,
  parseEventsTsv,
  sequenceImagesOfRun,
  type RunAnnouncement,
  type SessionConfig,
  type TriggerMessage,
} from '@orthostim/protocol';
import { readStimulusSet, type LoadedStimulusSet } from '@orthostim/protocol/node';
import { writeTestStimulusSet } from '@orthostim/test';
import { FakeClock } from './clock';
import { Session, type DisplayChannel } from './session';
import { RelayedTriggerSource } from './triggers';
import { readRunLog } from './run-log';

let stimuli: LoadedStimulusSet;
const root = mkdtempSync(join(tmpdir(), 'orthostim-session-'));
beforeAll(async () => {
  stimuli = readStimulusSet(await writeTestStimulusSet(join(root, 'set'), 3));
});

const config = {
  ...defaultSessionConfig(),
  repetitionTimeS: 1,
  soaVolumes: 2,
  imageDurationMs: 500,
  leadInVolumes: 1,
  leadOutVolumes: 2,
  repetitions: 2,
  dummyVolumes: 2,
  nullTrialFraction: 0.25,
};

class Recorder {
  announced: RunAnnouncement[] = [];
  triggers: TriggerMessage[] = [];
  ended: { runId: string; state: string }[] = [];
  announce(run: RunAnnouncement) {
    this.announced.push(run);
  }
  trigger(m: TriggerMessage) {
    this.triggers.push(m);
  }
  ended_(m: { runId: string; state: string }) {
    this.ended.push(m);
  }
}

function makeSession(dataDir: string, clock = new FakeClock(), sessionConfig: SessionConfig = config) {
  const display = new Recorder();
  const channel: DisplayChannel = {
    announce: (r) => display.announce(r),
    trigger: (m) => display.trigger(m),
    ended: (m) => display.ended_(m),
  };
  const source = new RelayedTriggerSource('scripted', 'scripted test triggers');
  const session = new Session({
    dataDir,
    stimuli,
    config: sessionConfig,
    clock,
    triggerSource: source,
    display: channel,
    imageUrl: (i) => `/stimuli/${i}`,
    version: '0.1.0-test',
    fsync: false,
  });
  return { session, display, source, clock };
}

const hello = {
  clientId: 'c1',
  userAgent: 'test',
  screenWidth: 1920,
  screenHeight: 1080,
  innerWidth: 1920,
  innerHeight: 1080,
  devicePixelRatio: 1,
};

describe('Session', () => {
  it('runs a scripted run to a BIDS events file: dummies, time zero, onsets, responses', async () => {
    const dataDir = join(root, 'ds1');
    const { session, display, source, clock } = makeSession(dataDir);
    await session.start();
    session.displayConnectedEvent('c1', hello);
    const armed = session.arm({ participant: 'sub-01', run: 1, seed: 1234 });
    expect(armed).toMatchObject({
      id: 'sub-01_task-orthostim_run-1',
      state: 'armed',
      participant: '01',
      session: null,
      task: 'orthostim',
      run: 1,
      eventsFile: null,
    });
    const run = display.announced.at(-1)!;
    session.displayReadyEvent({ runId: run.runId, refreshHz: 60, framePeriodMs: 16.67, imagesLoaded: 3 });
    // Two dummy triggers, then time zero; one pulse per TR from the script.
    const t0 = clock.now() + 3000;
    for (let k = -2; k < run.schedule.totalVolumes; k++) {
      clock.advance(t0 + k * 1000 - clock.now());
      source.push(clock.now());
      // The display shows each trial 4 ms after its planned onset and reports it.
      for (const trial of run.schedule.trials.filter((t) => t.onsetVolume === k)) {
        session.displayEvents([
          {
            id: `on${trial.index}`,
            runId: run.runId,
            type: 'onset',
            trialIndex: trial.index,
            kind: trial.imageId ? 'image' : 'null',
            frameMs: 0,
            serverMs: clock.now() + 4,
          },
        ]);
        session.displayEvents([
          {
            id: `off${trial.index}`,
            runId: run.runId,
            type: 'offset',
            trialIndex: trial.index,
            frameMs: 0,
            serverMs: clock.now() + 504,
          },
        ]);
      }
      if (k === 3)
        session.displayEvents([
          { id: 'r1', runId: run.runId, type: 'response', key: '1', eventMs: 0, serverMs: clock.now() + 100 },
        ]);
    }
    expect(display.triggers.map((t) => t.volume)).toEqual(
      Array.from({ length: run.schedule.totalVolumes + 2 }, (_, i) => i - 2),
    );
    expect(session.status().run!.state).toBe('running');
    session.displayEvents([
      {
        id: 'done',
        runId: run.runId,
        type: 'complete',
        trialsShown: run.schedule.trials.length,
        serverMs: clock.now(),
      },
    ]);
    clock.advance(2000);
    const summary = session.summary(run.runId)!;
    expect(summary.state).toBe('finished');
    expect(summary.triggers).toBe(run.schedule.totalVolumes + 2);
    expect(summary.eventsFile).toBe(join(dataDir, 'sub-01/func/sub-01_task-orthostim_run-1_events.tsv'));
    expect(display.ended).toEqual([{ runId: run.runId, state: 'finished' }]);

    const rows = parseEventsTsv(readFileSync(summary.eventsFile!, 'utf8'), 'events');
    const trialRows = rows.filter((r) => r.trial_index !== null && r.trial_type !== 'fixation_change');
    expect(trialRows).toHaveLength(run.schedule.trials.length);
    for (const r of trialRows) {
      const planned = run.schedule.trials[r.trial_index!]!;
      expect(r.onset).toBeCloseTo(planned.onsetS + 0.004, 6);
      expect(r.duration).toBeCloseTo(0.5, 6);
      expect(r.trial_type).toBe(planned.imageId ?? 'null');
      if (planned.imageIndex !== null) expect(existsSync(join(dataDir, 'stimuli', r.stim_file!))).toBe(true);
    }
    expect(rows.filter((r) => r.trial_type === 'response')).toHaveLength(1);
    const sidecar = JSON.parse(readFileSync(summary.eventsFile!.replace('.tsv', '.json'), 'utf8'));
    expect(sidecar.StimulusSetSha256).toBe(stimuli.set.sha256);
    expect(sidecar.Orthostim).toMatchObject({ runStatus: 'finished', complete: true, seed: 1234, missedTriggers: 0 });
    expect(JSON.parse(readFileSync(join(dataDir, 'dataset_description.json'), 'utf8')).Name).toBe(
      'orthostim session data',
    );
    // The raw log holds every trigger and the header with config and seed.
    const log = readRunLog(summary.rawLog);
    expect(log[0]).toMatchObject({ type: 'run', seed: 1234 });
    expect(log.filter((r) => r.type === 'trigger')).toHaveLength(run.schedule.totalVolumes + 2);
    expect(log.at(-1)).toMatchObject({ type: 'end', state: 'finished' });
    // The next run is offered; arming the same run again is refused.
    expect(session.status().nextRun).toEqual({ participant: '01', session: null, task: 'orthostim', run: 2 });
    expect(() => session.arm({ participant: '01', run: 1 })).toThrow(/already exists/);
    await session.stop();
  });

  it('refuses bad labels naming the value, and a second armed run', async () => {
    const { session } = makeSession(join(root, 'ds2'));
    await session.start();
    expect(() => session.arm({ participant: '../x', run: 1 })).toThrow(
      /participant: a BIDS label must be 1-64 letters or digits; got "..\/x"/,
    );
    expect(() => session.arm({ participant: '01', session: 'a_b', run: 1 })).toThrow(/session: a BIDS label/);
    expect(() => session.arm({ participant: '01', run: 0 })).toThrow(
      /run: must be a whole number from 1 to 999; got 0/,
    );
    session.arm({ participant: '01', run: 1 });
    expect(() => session.arm({ participant: '01', run: 2 })).toThrow(/is armed; abort it/);
    const aborted = session.abort('sub-01_task-orthostim_run-1');
    expect(aborted.state).toBe('aborted');
    const rows = parseEventsTsv(readFileSync(aborted.eventsFile!, 'utf8'), 'events');
    expect(rows.every((r) => r.trial_type === 'missed')).toBe(true);
    await session.stop();
  });

  it('only adds files to an existing dataset', async () => {
    const dataDir = join(root, 'ds3');
    mkdirSync(join(dataDir, 'sub-01', 'func'), { recursive: true });
    writeFileSync(join(dataDir, 'dataset_description.json'), '{"Name":"scanner"}');
    writeFileSync(join(dataDir, 'sub-01/func/sub-01_task-orthostim_run-3_events.tsv'), 'onset\tduration\ttrial_type\n');
    const { session } = makeSession(dataDir);
    await session.start();
    expect(readFileSync(join(dataDir, 'dataset_description.json'), 'utf8')).toBe('{"Name":"scanner"}');
    expect(() => session.arm({ participant: '01', run: 3 })).toThrow(/already exists/);
    await session.stop();
  });

  it("cuts condition-rich runs from the participant's image sequence, also after a restart", async () => {
    const dataDir = join(root, 'ds-rich');
    const rich = { ...config, imageTrialsPerRun: 2 };
    const imagesOf = (a: RunAnnouncement) =>
      a.schedule.trials.flatMap((t) => (t.imageIndex === null ? [] : [t.imageIndex]));
    const first = makeSession(dataDir, new FakeClock(), rich);
    await first.session.start();
    const shown: number[][] = [];
    for (const run of [1, 2]) {
      first.session.arm({ participant: '01', run });
      const a = first.display.announced.at(-1)!;
      shown.push(imagesOf(a));
      const closed = first.session.abort(a.runId);
      const sidecar = JSON.parse(readFileSync(closed.eventsFile!.replace(/\.tsv$/, '.json'), 'utf8'));
      expect(sidecar.Orthostim.imageSequence).toEqual(a.schedule.imageSequence);
      expect(sidecar.Orthostim.config.imageTrialsPerRun).toBe(2);
    }
    first.session.arm({ participant: '02', run: 1 });
    const other = first.display.announced.at(-1)!.schedule.imageSequence!;
    first.session.abort(first.display.announced.at(-1)!.runId);
    await first.session.stop();
    // A restarted server finds participant 01's sequence seed in the run logs and continues it.
    const second = makeSession(dataDir, new FakeClock(), rich);
    await second.session.start();
    second.session.arm({ participant: '01', run: 3 });
    const third = second.display.announced.at(-1)!;
    shown.push(imagesOf(third));
    second.session.abort(third.runId);
    await second.session.stop();
    const { sequenceSeed } = third.schedule.imageSequence!;
    expect(shown).toEqual([0, 1, 2].map((r) => sequenceImagesOfRun(3, 2, { sequenceSeed, runIndex: r })));
    // 6 trials of 3 images: each twice, never twice in a row across the runs.
    const all = shown.flat();
    expect([0, 1, 2].map((i) => all.filter((x) => x === i).length)).toEqual([2, 2, 2]);
    for (let k = 1; k < all.length; k++) expect(all[k]).not.toBe(all[k - 1]);
    // Another participant draws a sequence of their own (a random seed: equal with chance 2^-32).
    expect(other.sequenceSeed).not.toBe(sequenceSeed);
  });

  it("uses the config seed as every participant's sequence seed when it has one", async () => {
    const { session, display } = makeSession(join(root, 'ds-rich-seed'), new FakeClock(), {
      ...config,
      imageTrialsPerRun: 2,
      seed: 77,
    });
    await session.start();
    session.arm({ participant: '05', run: 4 });
    expect(display.announced.at(-1)!.schedule.imageSequence).toEqual({
      imageTrialsPerRun: 2,
      sequenceSeed: 77,
      runIndex: 3,
    });
    session.abort(display.announced.at(-1)!.runId);
    await session.stop();
  });

  it('keeps a killed run: a new session closes it from the log, marked incomplete', async () => {
    const dataDir = join(root, 'ds4');
    const first = makeSession(dataDir);
    await first.session.start();
    first.session.displayConnectedEvent('c1', hello);
    first.session.arm({ participant: '02', run: 1, seed: 7 });
    const run = first.display.announced.at(-1)!;
    for (let k = 0; k < 6; k++) {
      first.clock.advance(1000);
      first.source.push(first.clock.now());
    }
    const trial = run.schedule.trials[0]!;
    first.session.displayEvents([
      {
        id: 'x1',
        runId: run.runId,
        type: 'onset',
        trialIndex: 0,
        kind: trial.imageId ? 'image' : 'null',
        frameMs: 0,
        serverMs: first.clock.now(),
      },
    ]);
    // Duplicate from a resend: stored once.
    first.session.displayEvents([
      {
        id: 'x1',
        runId: run.runId,
        type: 'onset',
        trialIndex: 0,
        kind: 'image',
        frameMs: 0,
        serverMs: first.clock.now(),
      },
    ]);
    // No stop(): the process "dies" here. A new server starts on the same dataset.
    const second = makeSession(dataDir, new FakeClock(50));
    await second.session.start();
    expect(second.session.recovered).toEqual([
      { id: run.runId, eventsFile: expect.stringContaining('run-1_events.tsv'), error: null },
    ]);
    const summary = second.session.summary(run.runId)!;
    expect(summary.state).toBe('incomplete');
    const rows = parseEventsTsv(readFileSync(summary.eventsFile!, 'utf8'), 'events');
    expect(
      rows.filter((r) => r.trial_index === 0 && r.trial_type !== 'fixation_change' && r.trial_type !== 'missed'),
    ).toHaveLength(1);
    expect(rows.some((r) => r.trial_type === 'log_ends')).toBe(true);
    const log = readRunLog(summary.rawLog);
    expect(log.filter((r) => r.type === 'trigger')).toHaveLength(6);
    expect(log.filter((r) => r.type === 'display')).toHaveLength(1);
    await second.session.stop();
  });
});
