/**
 * Writing a run's BIDS files into a dataset, shared by the session server (measured runs) and
 * `orthostim simulate` (simulated runs) so both produce the same names and layout: run file names,
 * the stimulus set copied once under stimuli/, and events.tsv + events.json written as new files
 * (never overwriting one that exists).
 */
import { chmodSync, constants, copyFileSync, existsSync, linkSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, relative, sep } from 'node:path';
import { InputError } from './errors';
import { formatEventsTsv, type EventsRow } from './events-tsv';
import type { RunLabels } from './session-messages';
import { sha256File } from './files';
import { checkImageInsideSet, type LoadedStimulusSet } from './stimulus-set-io';

/** Where the session server keeps its raw run logs, relative to the dataset root. */
export const RAW_LOG_ROOT = join('sourcedata', 'orthostim');

export function runPrefix(l: RunLabels): string {
  return `sub-${l.participant}${l.session ? `_ses-${l.session}` : ''}_task-${l.task}_run-${l.run}`;
}

export function funcDir(l: RunLabels): string {
  return join(`sub-${l.participant}`, ...(l.session ? [`ses-${l.session}`] : []), 'func');
}

export interface RunPaths {
  /** Relative to the dataset root. */
  events: string;
  sidecar: string;
  rawLog: string;
}

export function runPaths(l: RunLabels): RunPaths {
  const prefix = runPrefix(l);
  return {
    events: join(funcDir(l), `${prefix}_events.tsv`),
    sidecar: join(funcDir(l), `${prefix}_events.json`),
    rawLog: join(RAW_LOG_ROOT, funcDir(l), `${prefix}_log.jsonl`),
  };
}

/**
 * Write a new file atomically, refusing to replace one that exists: a temporary file, then a hard
 * link to the final name (which fails if the name is taken). The temporary file is removed whatever
 * fails (a full disk leaves nothing behind). `mode` sets the permissions exactly (not through umask).
 */
export function writeFileExclusive(path: string, data: string | Uint8Array, mode?: number): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    writeFileSync(tmp, data, { flag: 'wx', mode: mode ?? 0o666 });
    if (mode !== undefined) chmodSync(tmp, mode);
    linkSync(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST')
      throw new InputError(`${path}: already exists; orthostim never overwrites files in a dataset`);
    throw err;
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * The `.bidsignore` line that keeps the copied stimulus-set.json out of the BIDS validator's
 * "unused stimulus" check (no events.tsv names it in stim_file; it describes the images that are).
 */
export const STIMULUS_SET_BIDSIGNORE = 'stimuli/*/stimulus-set.json';

/**
 * Files a BIDS dataset should have besides the runs, written only where absent (an existing
 * README or .bidsignore of the scanner's dataset is left alone): README, and a .bidsignore of the
 * stimulus-set copy.
 */
export function ensureDatasetFiles(dataDir: string, readme: string): void {
  for (const [name, text] of [
    ['README', readme],
    ['.bidsignore', `${STIMULUS_SET_BIDSIGNORE}\n`],
  ] as const) {
    if (existsSync(join(dataDir, name))) continue;
    try {
      writeFileExclusive(join(dataDir, name), text);
    } catch (err) {
      if (!existsSync(join(dataDir, name))) throw err; // written meanwhile by another run: fine
    }
  }
}

/**
 * Copy the stimulus set once into `stimuli/orthostim-<first 12 hex of its sha256>/`. A copy that
 * is already there is checked file by file and reused. Returns, per image, the path relative to
 * the dataset's stimuli/ folder (BIDS `stim_file`), and the set file's path relative to the dataset.
 */
export function copyStimulusSet(
  dataDir: string,
  loaded: LoadedStimulusSet,
): { stimFiles: string[]; setFile: string; folder: string } {
  const folderName = `orthostim-${loaded.set.sha256.slice(0, 12)}`;
  const folder = join(dataDir, 'stimuli', folderName);
  const files = [
    { src: loaded.path, rel: 'stimulus-set.json' },
    ...loaded.set.images.map((img, i) => ({ src: checkImageInsideSet(loaded, i), rel: img.file })),
  ];
  for (const f of files) {
    const dst = join(folder, f.rel);
    if (existsSync(dst)) {
      if (sha256File(dst) !== sha256File(f.src))
        throw new InputError(
          `${dst}: exists with different contents than ${f.src}; the dataset's copy of the stimulus set was changed`,
        );
      continue;
    }
    mkdirSync(dirname(dst), { recursive: true });
    copyFileSync(f.src, dst, constants.COPYFILE_EXCL);
  }
  const toPosix = (p: string) => p.split(sep).join('/');
  return {
    stimFiles: loaded.set.images.map((img) => `${folderName}/${img.file}`),
    setFile: toPosix(relative(dataDir, join(folder, 'stimulus-set.json'))),
    folder,
  };
}

/** Permissions of a run's raw log and events files: the lab's group reads them, other users cannot. */
export const RUN_FILE_MODE = 0o640;

/** Write a run's events.tsv and events.json (mode 0640), refusing existing files. Returns the events path. */
export function writeRunEvents(
  dataDir: string,
  labels: RunLabels,
  rows: readonly EventsRow[],
  sidecar: Record<string, unknown>,
): string {
  const paths = runPaths(labels);
  const events = join(dataDir, paths.events);
  const json = join(dataDir, paths.sidecar);
  if (existsSync(json)) throw new InputError(`${json}: already exists; orthostim never overwrites files in a dataset`);
  writeFileExclusive(events, formatEventsTsv(rows), RUN_FILE_MODE);
  writeFileExclusive(json, `${JSON.stringify(sidecar, null, 2)}\n`, RUN_FILE_MODE);
  return events;
}
