import { renameSync, truncateSync } from 'node:fs';
import { RUN_FILE_MODE, writeFileExclusive } from '@orthostim/protocol/node';
import type { LogRecord, RunHeaderRecord } from './log-records';
import { newRunEntry, type RunEntry } from './run-entry';
import { readRunLogContents } from './run-log';

/** A raw log found when the server starts, made safe to append to. */
export type RepairedRunLog =
  | { kind: 'run'; records: LogRecord[]; header: RunHeaderRecord; notes: string[] }
  | { kind: 'moved-aside'; notes: string[] };

/**
 * Before anything is appended to a log a stopped server left: a torn last record (the process died
 * or the disk filled mid-write) is cut off and kept in `<log>.torn-<time>`, so the next record
 * starts on a line of its own. A log without a run header (empty: the disk was full when the run
 * was armed) names no run: it is renamed to `<log>.no-header-<time>` and no longer blocks that run
 * number. Other damage (a bad line that is not the last) is an error for the operator.
 */
export function repairRunLog(path: string, nowMs = Date.now()): RepairedRunLog {
  const { records, wholeBytes, torn } = readRunLogContents(path);
  const notes: string[] = [];
  if (records[0]?.type !== 'run') {
    const aside = `${path}.no-header-${nowMs}`;
    renameSync(path, aside);
    notes.push(`${path}: no run header (${records.length} records); moved to ${aside}`);
    return { kind: 'moved-aside', notes };
  }
  if (torn) {
    const side = `${path}.torn-${nowMs}`;
    writeFileExclusive(side, torn, RUN_FILE_MODE);
    truncateSync(path, wholeBytes);
    notes.push(`${path}: torn last record (${torn.length} bytes) cut off and kept in ${side}`);
  }
  return { kind: 'run', records, header: records[0], notes };
}

/** The session's entry for a repaired log: `incomplete` (with no end reason) when it has no `end` record. */
export function recoveredRunEntry(path: string, repaired: Extract<RepairedRunLog, { kind: 'run' }>): RunEntry {
  const last = repaired.records[repaired.records.length - 1]!;
  const entry = newRunEntry({
    id: repaired.header.runId,
    labels: repaired.header.labels,
    state: last.type === 'end' ? last.state : 'incomplete',
    records: repaired.records,
    log: null,
    rawLog: path,
    eventsFile: null,
  });
  entry.endReason = last.type === 'end' ? last.reason : null;
  return entry;
}
