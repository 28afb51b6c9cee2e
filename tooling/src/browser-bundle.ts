import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Browser bundles built on demand with esbuild (the participant display of `orthostim serve`, the
 * NiiVue viewer of `orthostim view`). Nothing built is committed: a bundle is cached under
 * `cacheDir` keyed by a hash of esbuild's version and every source it is built from, and rebuilt
 * when one changes.
 */
export interface BrowserBundleSpec {
  /** Short name of the bundle, used in the cache file name (`<name>-<hash>.js`). */
  name: string;
  /** Entry module (TypeScript or JavaScript). */
  entry: string;
  /** Folders whose .ts sources (tests excluded) and files that key the cache. */
  sourceDirs: readonly string[];
  /** Extra strings that key the cache (e.g. the version of a bundled package). */
  keys?: readonly string[];
  cacheDir: string;
}

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sourceFiles(p, out);
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

export async function buildBrowserBundle(
  spec: BrowserBundleSpec,
): Promise<{ js: string; cached: boolean; path: string | null }> {
  const esbuild = await import('esbuild');
  const hash = createHash('sha256').update(esbuild.version);
  for (const k of spec.keys ?? []) hash.update(k);
  for (const d of spec.sourceDirs) for (const f of sourceFiles(d)) hash.update(f).update(readFileSync(f));
  const key = hash.digest('hex').slice(0, 16);
  const cachePath = join(spec.cacheDir, `${spec.name}-${key}.js`);
  if (existsSync(cachePath)) return { js: readFileSync(cachePath, 'utf8'), cached: true, path: cachePath };
  const result = await esbuild.build({
    entryPoints: [spec.entry],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: ['chrome100', 'firefox100', 'safari15'],
    write: false,
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const js = result.outputFiles[0]!.text;
  try {
    mkdirSync(dirname(cachePath), { recursive: true });
    writeFileSync(cachePath, js);
    return { js, cached: false, path: cachePath };
  } catch {
    return { js, cached: false, path: null }; // a read-only checkout still serves from memory
  }
}
