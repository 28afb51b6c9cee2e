import type { RunAnnouncement, RunLabels, RunState, RunSummary } from '@orthostim/protocol';
import type { LoadedStimulusSet } from '@orthostim/protocol/node';
import type { TimerHandle } from './clock';
import { convertRunLog, type RunConversion } from './events-from-log';
import type { LogRecord, RunHeaderRecord } from './log-records';
import type { RunLogWriter } from './run-log';

/** A run the session knows: its records (the log, also kept in memory) and what its live handling needs. */
export interface RunEntry {
  id: string;
  labels: RunLabels;
  state: RunState;
  records: LogRecord[];
  log: RunLogWriter | null;
  rawLog: string;
  eventsFile: string | null;
  seenEventIds: Set<string>;
  /** Triggers since arming, dummies included (their volume numbers come from this count). */
  triggerCount: number;
  sequenceBegun: boolean;
  finishTimer: TimerHandle | null;
  finishDeadline: number | null;
  /** Secret of the display this run is bound to (null until a display connects). */
  displaySecret: string | null;
  /** Server time of time zero, and the onsets accepted so far (trial index -> server ms). */
  t0: number | null;
  onsets: Map<number, number>;
  /** The last failed write of its log or events files (null: none). */
  storageError: string | null;
  /** A storage fault waits to be logged once the log can be written again. */
  storageFaultUnlogged: boolean;
  refused: number;
  endReason: string | null;
}

export function newRunEntry(
  fields: Pick<RunEntry, 'id' | 'labels' | 'state' | 'records' | 'log' | 'rawLog' | 'eventsFile'>,
): RunEntry {
  return {
    ...fields,
    seenEventIds: new Set(),
    triggerCount: 0,
    sequenceBegun: false,
    finishTimer: null,
    finishDeadline: null,
    displaySecret: null,
    t0: null,
    onsets: new Map(),
    storageError: null,
    storageFaultUnlogged: false,
    refused: 0,
    endReason: null,
  };
}

/** `GET /api/runs/<id>`. */
export function runSummary(run: RunEntry, conv: RunConversion): RunSummary {
  return {
    id: run.id,
    state: run.state,
    ...run.labels,
    seed: conv.header.seed,
    triggers: conv.stats.triggers,
    trialsPlanned: conv.stats.trialsPlanned,
    trialsShown: conv.stats.trialsShown.length,
    responses: conv.stats.responses,
    eventsFile: run.eventsFile,
    rawLog: run.rawLog,
    refusedEvents: conv.stats.refusedFromDisplay + conv.stats.refusedFromOthers,
    storageError: run.storageError,
    endReason: run.endReason,
  };
}

/** What the display needs to present `run` (sent on arm, and again to a display that rejoins). */
export function runAnnouncement(
  run: RunEntry,
  stimuli: LoadedStimulusSet,
  imageUrl: (index: number) => string,
): RunAnnouncement {
  const header = run.records[0] as RunHeaderRecord;
  const conv = convertRunLog(run.records);
  return {
    runId: run.id,
    ...run.labels,
    state: run.state,
    schedule: header.schedule,
    images: stimuli.set.images.map((img, i) => ({ id: img.id, url: imageUrl(i) })),
    config: header.config,
    triggers:
      conv.stats.t0 === null
        ? []
        : run.records.flatMap((r) =>
            r.type === 'trigger' && r.volume >= 0 ? [{ volume: r.volume, serverMs: r.t }] : [],
          ),
    trialsShown: conv.stats.trialsShown,
  };
}
