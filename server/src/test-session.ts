/** A Session on a fake clock with a scripted trigger source and a recording display channel, for tests. */
import {
  type SessionConfig,
  defaultSessionConfig,
  type DisplayEvent,
  type RunAnnouncement,
  type RunState,
  type TriggerMessage,
} from '@orthostim/protocol';
import type { LoadedStimulusSet } from '@orthostim/protocol/node';
import { FakeClock } from './clock';
import { Session } from './session';
import { RelayedTriggerSource } from './triggers';

export const testConfig = {
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

export const testHello = {
  clientId: 'c1',
  userAgent: 'test',
  screenWidth: 1920,
  screenHeight: 1080,
  innerWidth: 1920,
  innerHeight: 1080,
  devicePixelRatio: 1,
};

export class DisplayRecorder {
  announced: RunAnnouncement[] = [];
  triggers: TriggerMessage[] = [];
  ended: { runId: string; state: RunState }[] = [];
}

export function makeTestSession(
  dataDir: string,
  stimuli: LoadedStimulusSet,
  o: { clock?: FakeClock; kind?: 'scripted' | 'keyboard'; warnings?: string[]; config?: SessionConfig } = {},
) {
  const display = new DisplayRecorder();
  const clock = o.clock ?? new FakeClock();
  const source = new RelayedTriggerSource(o.kind ?? 'scripted', 'scripted test triggers');
  const session = new Session({
    dataDir,
    stimuli,
    config: o.config ?? testConfig,
    clock,
    triggerSource: source,
    display: {
      announce: (r) => display.announced.push(r),
      trigger: (m) => display.triggers.push(m),
      ended: (m) => display.ended.push(m),
    },
    imageUrl: (i) => `/stimuli/${i}`,
    version: '0.1.0-test',
    fsync: false,
    warn: (line) => o.warnings?.push(line),
  });
  return { session, display, source, clock };
}

/** An onset event of `trial` at `serverMs`. */
export function onsetEvent(id: string, runId: string, trialIndex: number, serverMs: number): DisplayEvent {
  return { id, runId, type: 'onset', trialIndex, kind: 'image', frameMs: 0, serverMs };
}

/**
 * Drive a whole run: two dummies, then one trigger per TR, the display (connection `conn`)
 * showing each trial 4 ms after plan; then `complete` and the grace period. `t0` is returned.
 */
export function playRun(t: ReturnType<typeof makeTestSession>, conn: string): number {
  const run = t.display.announced.at(-1)!;
  const t0 = t.clock.now() + 3000;
  for (let k = -2; k < run.schedule.totalVolumes; k++) {
    t.clock.advance(t0 + k * 1000 - t.clock.now());
    t.source.push(t.clock.now());
    for (const trial of run.schedule.trials.filter((x) => x.onsetVolume === k))
      t.session.displayEvents(conn, [onsetEvent(`on${trial.index}`, run.runId, trial.index, t.clock.now() + 4)]);
  }
  t.session.displayEvents(conn, [
    {
      id: 'done',
      runId: run.runId,
      type: 'complete',
      trialsShown: run.schedule.trials.length,
      serverMs: t.clock.now(),
    },
  ]);
  t.clock.advance(2000);
  return t0;
}
