import type { RunAnnouncement, RunState, SessionConfig, TriggerMessage } from '@orthostim/protocol';
import type { LoadedStimulusSet } from '@orthostim/protocol/node';
import type { Clock } from './clock';
import type { TriggerSource } from './triggers';

/** How the session reaches the participant display (socket.io in the server; a recorder in tests). */
export interface DisplayChannel {
  announce(run: RunAnnouncement): void;
  trigger(message: TriggerMessage): void;
  ended(message: { runId: string; state: RunState }): void;
}

export interface SessionOptions {
  dataDir: string;
  stimuli: LoadedStimulusSet;
  config: SessionConfig;
  clock: Clock;
  triggerSource: TriggerSource;
  display: DisplayChannel;
  /** URL the display loads image `index` of the set from. */
  imageUrl(index: number): string;
  version: string;
  /** fdatasync the raw log at each record (default true). */
  fsync?: boolean;
  /** Wait this long past the end of the last volume for the display's last events (ms, default 10 s). */
  finishGraceMs?: number;
  /** Where refused events and storage faults are reported besides the run log (default: stderr). */
  warn?: (line: string) => void;
}

export type ClosedState = 'finished' | 'aborted' | 'incomplete' | 'failed';

export interface RecoveredRun {
  id: string;
  eventsFile: string | null;
  error: string | null;
  /** The run's state after recovery (`incomplete` when it had no end; null when the log names no run). */
  state: RunState | null;
  /** What recovery did besides closing the run (a torn record cut off, a header-less log moved aside). */
  notes: string[];
}
