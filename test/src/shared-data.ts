/**
 * Access to the read-only real data beside the repository (../shared). Tests that need it run
 * when it is there, skip when it is not, and fail under CI (CI=true), where it must be present.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHARED_ROOT = process.env.ORTHOSTIM_SHARED ?? resolve(REPO_ROOT, '..', 'shared');

/** Absolute path of `rel` under ../shared; throws under CI when missing, else returns null. */
export function sharedPath(rel: string): string | null {
  const p = join(SHARED_ROOT, rel);
  if (existsSync(p)) return p;
  if (process.env.CI)
    throw new Error(`${p}: required test data is missing (../shared must be beside the repository under CI)`);
  return null;
}

/** Like sharedPath, for use in `describe.skipIf(!hasShared(...))`. */
export function hasShared(rel: string): boolean {
  return sharedPath(rel) !== null;
}

/** The path, asserting it exists (call inside a test guarded by hasShared). */
export function requireShared(rel: string): string {
  const p = sharedPath(rel);
  if (p === null) throw new Error(`../shared/${rel} is missing`);
  return p;
}

export const GOOGLENET_DIR = 'models/bvlc-googlenet';
export const GOOGLENET_WEIGHTS = 'models/bvlc-googlenet/weights';
