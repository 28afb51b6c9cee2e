import type { DisplayEvent } from '@orthostim/protocol';
import type { RunHeaderRecord } from './log-records';

/** How far an onset may be from its planned time, and an event's time from the run, ms. */
export const ONSET_TOLERANCE_MS = 1000;
export const TIME_TOLERANCE_MS = 1000;

/** What the server knows of a run when an event of its display arrives. */
export interface RunTimeline {
  header: RunHeaderRecord;
  /** Server time of the first stored volume (null before time zero). */
  t0: number | null;
  /** Accepted onsets: trial index -> server ms. */
  onsets: Map<number, number>;
  /** Server time now. */
  nowMs: number;
}

function timeOf(e: DisplayEvent): number | null {
  return 'serverMs' in e ? e.serverMs : null;
}

/**
 * Why an event of the run's own display cannot be true, or null when it can: a time before the
 * run was armed or in the future, an onset before time zero, for a trial not in the schedule, a
 * second onset of a trial, one out of order, or one more than a second from its planned time.
 */
export function implausibleDisplayEvent(e: DisplayEvent, run: RunTimeline): string | null {
  const t = timeOf(e);
  if (t !== null && (t < run.header.t - TIME_TOLERANCE_MS || t > run.nowMs + TIME_TOLERANCE_MS))
    return `${e.type} at server time ${t} ms is outside the run (armed at ${run.header.t} ms, now ${run.nowMs} ms)`;
  if (e.type !== 'onset') return null;
  const trial = run.header.schedule.trials.find((x) => x.index === e.trialIndex);
  if (!trial) return `onset of trial ${e.trialIndex}, which is not in the schedule`;
  if (run.t0 === null) return `onset of trial ${e.trialIndex} before the run's start (no time zero yet)`;
  if (run.onsets.has(e.trialIndex)) return `second onset of trial ${e.trialIndex}`;
  const later = [...run.onsets].find(([index, ms]) => index > e.trialIndex || ms > e.serverMs);
  if (later) return `onset of trial ${e.trialIndex} out of order (trial ${later[0]} was shown before it)`;
  const offMs = e.serverMs + run.header.config.displayLatencyMs - run.t0 - trial.onsetS * 1000;
  if (Math.abs(offMs) > ONSET_TOLERANCE_MS)
    return `onset of trial ${e.trialIndex} is ${(offMs / 1000).toFixed(3)} s from its planned time (at most ${ONSET_TOLERANCE_MS / 1000} s)`;
  return null;
}
