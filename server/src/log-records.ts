import type {
  DisplayEvent,
  DisplayHello,
  DisplayReady,
  RunLabels,
  RunSchedule,
  RunState,
  SessionConfig,
} from '@orthostim/protocol';

/**
 * The raw run log: one JSON object per line, appended and flushed as each thing happens, so a
 * crash loses nothing already seen. `t` is the server's monotonic clock (ms) of the process that
 * wrote the line, `wallMs` the wall clock (a restarted server's monotonic clock starts over).
 * The first record is always `run`; a closed run ends with `end`.
 */
export interface RunHeaderRecord {
  type: 'run';
  t: number;
  wallMs: number;
  runId: string;
  labels: RunLabels;
  seed: number;
  config: SessionConfig;
  schedule: RunSchedule;
  stimulusSet: { sha256: string; imageIds: string[]; copiedTo: string };
  /** Per image (set order): path relative to the dataset's stimuli/ folder. */
  stimFiles: string[];
  triggerSource: string;
  orthostim: string;
  eventsFile: string;
}

export type LogRecord =
  | RunHeaderRecord
  | { type: 'trigger'; t: number; wallMs: number; seq: number; volume: number }
  | { type: 'time_zero'; t: number; wallMs: number; seq: number }
  | { type: 'display'; t: number; wallMs: number; event: DisplayEvent }
  | { type: 'display_hello'; t: number; wallMs: number; hello: DisplayHello }
  | { type: 'display_ready'; t: number; wallMs: number; ready: DisplayReady }
  | { type: 'display_connection'; t: number; wallMs: number; connected: boolean; clientId: string | null }
  | { type: 'state'; t: number; wallMs: number; state: RunState; reason: string }
  | { type: 'end'; t: number; wallMs: number; state: RunState; reason: string }
  /**
   * A display event the server did not accept: `other` (a connection that is not the run's
   * display), or `display` (the run's display, but implausible: an onset far off plan, before time
   * zero, out of order, a time outside the run). `event` is what was sent, cut to 1000 characters.
   */
  | {
      type: 'refused';
      t: number;
      wallMs: number;
      source: 'display' | 'other';
      clientId: string | null;
      reason: string;
      event: string;
    }
  /** Writing this log failed (a full disk) and records waited in memory; logged once they could be written. */
  | { type: 'storage_fault'; t: number; wallMs: number; detail: string };

export type LogRecordType = LogRecord['type'];
