import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { BuildOptions } from 'esbuild';
import { ensureNodeBundle } from './node-bundle.mjs';

/**
 * Browser bundles built on demand with esbuild (the participant display of `orthostim serve`, the
 * NiiVue viewer of `orthostim view`). Nothing built is committed: a bundle lives in the same kind
 * of cache as the Node bundles (node-bundle.mjs: `<cacheDir>/<name>/`, a manifest of every file
 * esbuild read, packages included, rebuilt when one changes). Where the cache cannot be written
 * (a read-only checkout) the bundle is built in memory.
 */
export interface BrowserBundleSpec {
  /** Short name of the bundle: its folder under `cacheDir`. */
  name: string;
  /** Entry module (TypeScript or JavaScript). */
  entry: string;
  /**
   * No longer needed (the cache follows every file esbuild reads); accepted so that callers can
   * drop it in their own time.
   */
  sourceDirs?: readonly string[];
  /** Extra strings that key the cache (e.g. the version of a bundled package). */
  keys?: readonly string[];
  cacheDir: string;
}

const BROWSER_OPTIONS = {
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: ['chrome100', 'firefox100', 'safari15'],
  minify: true,
  legalComments: 'none',
  logLevel: 'silent',
} satisfies BuildOptions;

export async function buildBrowserBundle(
  spec: BrowserBundleSpec,
): Promise<{ js: string; cached: boolean; path: string | null }> {
  try {
    const { dir, built } = await ensureNodeBundle({
      cacheDir: join(spec.cacheDir, spec.name),
      workingDir: dirname(spec.entry),
      key: (spec.keys ?? []).join('\n'),
      options: { entryPoints: [spec.entry], ...BROWSER_OPTIONS },
    });
    const path = join(dir, `${basename(spec.entry).replace(/\.[mc]?[jt]s$/, '')}.js`);
    return { js: readFileSync(path, 'utf8'), cached: !built, path };
  } catch {
    const esbuild = await import('esbuild');
    const result = await esbuild.build({ entryPoints: [spec.entry], ...BROWSER_OPTIONS, write: false });
    return { js: result.outputFiles[0]!.text, cached: false, path: null };
  }
}
