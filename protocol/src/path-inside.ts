import { existsSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';

function inside(base: string, target: string): boolean {
  const rel = relative(base, target);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/**
 * `path` with every symlink resolved, when that is a plain file inside `root` (itself resolved);
 * null when the file is missing, not a plain file, or a symlink (anywhere on its path) leads out.
 */
export function realPathInside(root: string, path: string): string | null {
  let base: string;
  let real: string;
  try {
    base = realpathSync(root);
    real = realpathSync(path);
  } catch {
    return null;
  }
  if (!inside(base, real) || !statSync(real).isFile()) return null;
  return real;
}

/**
 * The file `requestPath` names inside `root`, or null when it would leave `root` (`..`, an
 * absolute path, an encoded separator or NUL, a symlink to a file elsewhere) or is not a plain
 * file. Every static file server of orthostim (the session server, the map viewer) goes only
 * through this.
 */
export function resolveInside(root: string, requestPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(requestPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const parts = decoded.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..')) return null;
  const base = resolve(root);
  const target = resolve(base, ...parts);
  if (!inside(base, target) || !existsSync(target)) return null;
  return realPathInside(base, target);
}
