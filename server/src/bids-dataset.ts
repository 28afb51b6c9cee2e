import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, checkBidsLabel, type RunLabels } from '@orthostim/protocol';
import { RAW_LOG_ROOT, ensureDatasetFiles, writeFileExclusive } from '@orthostim/protocol/node';

/**
 * The BIDS dataset the session writes into. It only ever adds files: an existing
 * dataset_description.json (the scanner's dataset) is left alone, and no file is overwritten.
 * Run file names, the stimulus-set copy and the events writer live in @orthostim/protocol/node
 * (`orthostim simulate` writes its runs with the same code).
 */
export {
  RAW_LOG_ROOT,
  runPrefix,
  funcDir,
  type RunPaths,
  runPaths,
  writeFileExclusive,
  copyStimulusSet,
  writeRunEvents,
} from '@orthostim/protocol/node';

/** Check labels as BIDS labels (accepting a `sub-`/`ses-`/`task-` prefix) before they name files. */
export function normalizeRunLabels(input: {
  participant: unknown;
  session?: unknown;
  task?: unknown;
  run: unknown;
}): RunLabels {
  const strip = (v: unknown, prefix: string) =>
    typeof v === 'string' && v.startsWith(prefix) ? v.slice(prefix.length) : v;
  const participant = checkBidsLabel(strip(input.participant, 'sub-'), 'participant');
  const session =
    input.session === undefined || input.session === null || input.session === ''
      ? null
      : checkBidsLabel(strip(input.session, 'ses-'), 'session');
  const task = checkBidsLabel(strip(input.task ?? 'orthostim', 'task-'), 'task');
  if (typeof input.run !== 'number' || !Number.isInteger(input.run) || input.run < 1 || input.run > 999) {
    throw new InputError(`run: must be a whole number from 1 to 999; got ${JSON.stringify(input.run)}`);
  }
  return { participant, session, task, run: input.run };
}

/** The README of a dataset the session server starts (BIDS recommends one). */
export const SESSION_README = `orthostim session data

Functional MRI runs recorded with orthostim: participants viewed the
images of a stimulus set (stimuli/orthostim-<sha256>/) in a rapid event-related design while the
session server logged every trigger, image onset and response. Each run has an _events.tsv (actual
onsets from the display's frame times) and an _events.json whose Orthostim object records the
stimulus set's sha256, the run's status and timing checks; the raw logs are in
sourcedata/orthostim/.
`;

/**
 * Create the dataset folder and, only if absent, a dataset_description.json, a README and a
 * .bidsignore (files of the scanner's dataset are left alone).
 */
export function ensureDataset(dataDir: string, version: string): void {
  mkdirSync(dataDir, { recursive: true });
  ensureDatasetFiles(dataDir, SESSION_README);
  const desc = join(dataDir, 'dataset_description.json');
  if (existsSync(desc)) return;
  writeFileExclusive(
    desc,
    `${JSON.stringify({ Name: 'orthostim session data', BIDSVersion: '1.9.0', DatasetType: 'raw', GeneratedBy: [{ Name: 'orthostim', Version: version }] }, null, 2)}\n`,
  );
}

/** Every raw run log under sourcedata/orthostim, sorted. */
export function listRunLogs(dataDir: string): string[] {
  const root = join(dataDir, RAW_LOG_ROOT);
  if (!existsSync(root)) return [];
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('_log.jsonl')) out.push(p);
    }
  };
  walk(root);
  return out;
}
