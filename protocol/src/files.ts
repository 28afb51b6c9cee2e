import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync, readdirSync, statSync } from 'node:fs';
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

/**
 * Build an output folder atomically: `fill` writes into a fresh staging folder next to `outDir`,
 * which is renamed into place only when `fill` succeeds, so a failed command leaves nothing
 * half-written. An existing non-empty `outDir` is refused unless `overwrite` is set, in which case
 * it is replaced only after the new contents are complete.
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
  const staging = join(dirname(outDir), `.${basename(outDir)}.partial-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(staging);
  let result: T;
  try {
    result = await fill(staging);
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw err;
  }
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
