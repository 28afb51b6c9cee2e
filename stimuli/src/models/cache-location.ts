/**
 * Where orthostim keeps downloaded and converted weights: `$ORTHOSTIM_CACHE`, else
 * `$XDG_CACHE_HOME/orthostim`, else `~/.cache/orthostim`.
 *
 *   <cache>/downloads/googlenet-7.onnx   the verified download, kept so `model verify` can recheck it
 *   <cache>/googlenet/                   the converted weights cache (manifest.json + weights.bin)
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

type Env = Record<string, string | undefined>;

export function orthostimCacheDir(env: Env = process.env): string {
  if (env.ORTHOSTIM_CACHE) return resolve(env.ORTHOSTIM_CACHE);
  if (env.XDG_CACHE_HOME) return resolve(env.XDG_CACHE_HOME, 'orthostim');
  return join(homedir(), '.cache', 'orthostim');
}

/** The converted weights cache of a named model, e.g. `<cache>/googlenet`. */
export function modelCacheDir(model: string, env: Env = process.env): string {
  return join(orthostimCacheDir(env), model);
}

/** Where verified downloads are kept. */
export function downloadsDir(env: Env = process.env): string {
  return join(orthostimCacheDir(env), 'downloads');
}
