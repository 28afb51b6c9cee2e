import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { InputError } from './errors';

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

/**
 * Build an output folder atomically: `fill` writes into a fresh staging folder next to `outDir`,
 * which is renamed into place only when `fill` succeeds, so a failed command leaves nothing
 * half-written. An existing non-empty `outDir` is refused unless `overwrite` is set, in which case
 * it is replaced only after the new contents are complete. The staging folder
 * (`.<name>.partial-<host>-<pid>-<random>`) is removed when `fill` fails, when the process exits
 * or is interrupted (SIGINT, SIGTERM, SIGHUP) first, and, if the process was killed outright, by
 * the next build of the same folder on the same host.
 */
export async function buildOutputDir<T>(
  outDir: string,
  fill: (stagingDir: string) => Promise<T> | T,
  options: { overwrite?: boolean; flag?: string } = {},
): Promise<T> {
  const flag = options.flag ?? '--overwrite';
  if (existsSync(outDir)) {
    if (!statSync(outDir).isDirectory()) throw new InputError(`${outDir}: exists and is not a folder`);
    if (readdirSync(outDir).length > 0 && !options.overwrite) {
      throw new InputError(`${outDir}: output folder exists and is not empty; choose another folder or pass ${flag}`);
    }
  }
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
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    untrack(staging);
    throw err;
  }
  untrack(staging);
  if (existsSync(outDir)) {
    const old = `${staging}.old`;
    renameSync(outDir, old);
    renameSync(staging, outDir);
    rmSync(old, { recursive: true, force: true });
  } else {
    renameSync(staging, outDir);
  }
  return result;
}
