import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, checkBidsLabel, type RunLabels } from '@orthostim/protocol';
import { RAW_LOG_ROOT, writeFileExclusive } from '@orthostim/protocol/node';

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

/** Create the dataset folder and, only if it has none, a dataset_description.json. */
export function ensureDataset(dataDir: string, version: string): void {
  mkdirSync(dataDir, { recursive: true });
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
