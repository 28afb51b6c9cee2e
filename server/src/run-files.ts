import { randomInt } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  InputError,
  buildRunSchedule,
  formatEventsTsv,
  runSeed,
  type ImageSequencePlan,
  type RunLabels,
  type SessionConfig,
} from '@orthostim/protocol';
import { RUN_FILE_MODE, type LoadedStimulusSet } from '@orthostim/protocol/node';
import { runPaths, writeFileExclusive } from './bids-dataset';
import { buildEventsSidecar, convertRunLog } from './events-from-log';
import { faultPoint } from './fault-points';
import type { LogRecord, RunHeaderRecord } from './log-records';
import { RunLogWriter } from './run-log';
import { StorageError } from './session-errors';

/** The `run` record that starts a run's log: labels, seed, config, schedule, stimulus set, trigger source. */
export function buildRunHeader(o: {
  id: string;
  labels: RunLabels;
  requestedSeed: number | undefined;
  stimuli: LoadedStimulusSet;
  config: SessionConfig;
  copy: { setFile: string; stimFiles: string[] };
  triggerSource: string;
  version: string;
  stamp: { t: number; wallMs: number };
  /** Condition-rich designs: which slice of the participant's image sequence this run shows. */
  sequence?: ImageSequencePlan;
}): RunHeaderRecord {
  const cfg = o.config;
  const seed =
    o.requestedSeed ?? (cfg.seed !== undefined ? runSeed(cfg.seed, o.labels.run) : randomInt(0, 2 ** 32 - 1));
  const ids = o.stimuli.set.images.map((img) => img.id);
  return {
    type: 'run',
    ...o.stamp,
    runId: o.id,
    labels: o.labels,
    seed,
    config: cfg,
    schedule: buildRunSchedule(ids, cfg, seed, o.sequence),
    stimulusSet: { sha256: o.stimuli.set.sha256, imageIds: ids, copiedTo: o.copy.setFile },
    stimFiles: o.copy.stimFiles,
    triggerSource: o.triggerSource,
    orthostim: o.version,
    eventsFile: runPaths(o.labels).events,
  };
}

/**
 * Create a run's log (exclusively) and write its header. If the header cannot be written (a full
 * disk), the file is removed again, so it does not block the run number, and StorageError says why.
 */
export function createRunLog(path: string, id: string, header: RunHeaderRecord, fsync: boolean): RunLogWriter {
  let log: RunLogWriter;
  try {
    log = new RunLogWriter(path, fsync);
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new StorageError(`run ${id}: cannot create its raw log ${path}: ${(err as Error).message}`);
  }
  if (log.append(header)) return log;
  const fault = log.fault;
  log.close();
  rmSync(path, { force: true });
  throw new StorageError(`run ${id} not armed: writing its raw log failed (${fault}); nothing was left behind`);
}

/**
 * Write whichever of a run's events.tsv and events.json is missing (each atomically, mode 0640),
 * from its log records; returns the events path. After a crash between the two, the next start
 * writes the one missing.
 */
export function writeRunEventsFiles(dataDir: string, records: readonly LogRecord[]): string {
  const conv = convertRunLog(records);
  const paths = runPaths(conv.header.labels);
  const sidecar = buildEventsSidecar(conv, {
    rawLog: paths.rawLog.split('\\').join('/'),
    stimulusSetFile: conv.header.stimulusSet.copiedTo,
  });
  const tsv = join(dataDir, paths.events);
  const json = join(dataDir, paths.sidecar);
  if (!existsSync(tsv)) writeFileExclusive(tsv, formatEventsTsv(conv.rows), RUN_FILE_MODE);
  faultPoint('after-events-tsv');
  if (!existsSync(json)) writeFileExclusive(json, `${JSON.stringify(sidecar, null, 2)}\n`, RUN_FILE_MODE);
  return tsv;
}

/** Both events files of a run exist. */
export function runEventsWritten(dataDir: string, labels: RunLabels): boolean {
  const paths = runPaths(labels);
  return existsSync(join(dataDir, paths.events)) && existsSync(join(dataDir, paths.sidecar));
}
