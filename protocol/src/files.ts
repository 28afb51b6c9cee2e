import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { InputError, OrthostimError } from './errors';

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function sha256File(path: string): string {
  return sha256Hex(readFileSync(path));
}

/** Write a file atomically: a temporary file beside it, then rename, so no reader sees half a file. */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** Staging folders being filled in this process: removed if it exits or is interrupted first. */
const liveStaging = new Set<string>();
const HOST = hostname().replace(/[^A-Za-z0-9]/g, '') || 'host';

function removeLiveStaging(): void {
  for (const dir of liveStaging) rmSync(dir, { recursive: true, force: true });
  liveStaging.clear();
}

/**
 * Ctrl-C or a kill while a staging folder is being filled: remove it, then die of the signal as
 * Node would have. Only where nothing else handles the signal (e.g. synthesize's checkpointing
 * stop, which ends through its own path and the 'exit' hook).
 */
function onSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) return; // someone else handles it
  removeLiveStaging();
  process.off(signal, onSignal);
  process.kill(process.pid, signal);
}

function track(dir: string): void {
  if (liveStaging.size === 0) {
    process.once('exit', removeLiveStaging);
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, onSignal);
  }
  liveStaging.add(dir);
}

function untrack(dir: string): void {
  liveStaging.delete(dir);
  if (liveStaging.size === 0) {
    process.off('exit', removeLiveStaging);
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(sig, onSignal);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Staging folders of `outDir` left by processes of this host that died (SIGKILL, power loss). */
function removeDeadStaging(outDir: string): void {
  const prefix = `.${basename(outDir)}.partial-${HOST}-`;
  let names: string[];
  try {
    names = readdirSync(dirname(outDir));
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(/^(\d+)-/.exec(name.slice(prefix.length))?.[1]);
    if (Number.isInteger(pid) && pid !== process.pid && !isAlive(pid))
      rmSync(join(dirname(outDir), name), { recursive: true, force: true });
  }
}

/** The file orthostim leaves in every output folder it builds: `--overwrite` replaces only such folders. */
export const OUTPUT_MARKER = '.orthostim-output';

export interface OutputDirOptions {
  /** Replace an existing non-empty folder (only a folder orthostim wrote, holding none of `inputs`). */
  overwrite?: boolean;
  /** The flag that asks for it, named in errors (default `--overwrite`). */
  flag?: string;
  /** Files and folders the command reads: a folder holding any of them is never replaced. */
  inputs?: readonly (string | undefined)[];
  /** Recognises a folder an earlier orthostim wrote before it left the marker (e.g. a weights cache's manifest). */
  isOurs?: (dir: string) => boolean;
}

/** Mark `dir` (created if needed) as a folder orthostim wrote, e.g. a run folder filled step by step. */
export function markOutputDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
  if (!existsSync(join(dir, OUTPUT_MARKER)))
    writeFileSync(join(dir, OUTPUT_MARKER), 'written by orthostim: `--overwrite` may replace this folder\n');
}

/** `inner` is `outer` or lies inside it (both resolved, symbolic links followed where they exist). */
function isInside(inner: string, outer: string): boolean {
  const rel = relative(realOrResolved(outer), realOrResolved(inner));
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

function realOrResolved(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
}

function describeEntries(dir: string, names: string[]): string {
  const shown = names.slice(0, 3).map((n) => join(dir, n));
  return names.length > 3 ? `${shown.join(', ')} and ${names.length - 3} more` : shown.join(', ');
}

/**
 * Check, before any work starts, that `outDir` may be built: absent, empty, or (with `overwrite`)
 * a folder orthostim wrote that holds none of the command's inputs. Throws an `InputError` naming
 * what would be deleted otherwise.
 */
export function checkOutputDir(outDir: string, options: OutputDirOptions = {}): void {
  const flag = options.flag ?? '--overwrite';
  if (isInside(process.cwd(), outDir))
    throw new InputError(
      `${outDir}: is the current folder or holds it; results are built beside the output folder and moved into place, so choose a new folder (e.g. ${join(outDir, 'out')})`,
    );
  if (!existsSync(outDir)) return;
  if (!statSync(outDir).isDirectory()) throw new InputError(`${outDir}: exists and is not a folder`);
  const names = readdirSync(outDir);
  if (names.length === 0) return;
  if (!options.overwrite)
    throw new InputError(`${outDir}: output folder exists and is not empty; choose another folder or pass ${flag}`);
  const input = (options.inputs ?? []).find((p): p is string => p !== undefined && isInside(p, outDir));
  if (input !== undefined)
    throw new InputError(
      `${outDir}: holds ${input}, an input of this command; ${flag} would delete it: choose another output folder`,
    );
  if (!names.includes(OUTPUT_MARKER) && !options.isOurs?.(outDir))
    throw new InputError(
      `${outDir}: not a folder orthostim wrote (no ${OUTPUT_MARKER}); ${flag} would delete ${describeEntries(outDir, names)}: choose another folder or empty it yourself`,
    );
}

/** Put the previous output back after a failed replacement, or say where it is. */
function restoreOld(old: string, outDir: string, staging: string): void {
  try {
    renameSync(old, outDir);
  } catch (err) {
    throw new OrthostimError(
      `${outDir}: could not move the finished results into place nor the previous output back (${(err as NodeJS.ErrnoException).code}); the finished results are in ${staging}, the previous output in ${old}`,
      'E_OUTPUT_MOVE',
      1,
    );
  }
}

/** Replace `outDir` by the finished `staging` folder; if that fails, say where the results are. */
function moveIntoPlace(staging: string, outDir: string): void {
  const old = `${staging}.old`;
  const hadOld = existsSync(outDir);
  try {
    if (hadOld) renameSync(outDir, old);
    try {
      renameSync(staging, outDir);
    } catch (err) {
      if (hadOld) restoreOld(old, outDir, staging);
      throw err;
    }
  } catch (err) {
    if (err instanceof OrthostimError) throw err;
    const e = err as NodeJS.ErrnoException;
    throw new OrthostimError(
      `${outDir}: could not move the finished results into place (${e.code ?? e.message}); they are in ${staging}`,
      'E_OUTPUT_MOVE',
      1,
    );
  }
  if (hadOld) rmSync(old, { recursive: true, force: true });
}

/**
 * Build an output folder atomically: `fill` writes into a fresh staging folder next to `outDir`,
 * which is renamed into place only when `fill` succeeds, so a failed command leaves nothing
 * half-written. An existing non-empty `outDir` is refused unless `overwrite` is set, and even then
 * unless orthostim wrote it (it holds `OUTPUT_MARKER`, which every built folder gets) and it holds
 * none of `inputs` (checkOutputDir); it is replaced only after the new contents are complete. If
 * the final rename fails (a mount point, a read-only parent), the error names the staging folder
 * that holds the finished results, which is then kept. The staging folder
 * (`.<name>.partial-<host>-<pid>-<random>`) is removed when `fill` fails, when the process exits
 * or is interrupted (SIGINT, SIGTERM, SIGHUP) first, and, if the process was killed outright, by
 * the next build of the same folder on the same host.
 */
export async function buildOutputDir<T>(
  outDirGiven: string,
  fill: (stagingDir: string) => Promise<T> | T,
  options: OutputDirOptions = {},
): Promise<T> {
  const outDir = resolve(outDirGiven);
  checkOutputDir(outDir, options);
  mkdirSync(dirname(outDir), { recursive: true });
  removeDeadStaging(outDir);
  const staging = join(
    dirname(outDir),
    `.${basename(outDir)}.partial-${HOST}-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  mkdirSync(staging);
  track(staging);
  let result: T;
  try {
    result = await fill(staging);
    markOutputDir(staging);
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    untrack(staging);
    throw err;
  }
  untrack(staging);
  moveIntoPlace(staging, outDir);
  return result;
}
