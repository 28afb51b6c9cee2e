import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The participant display's JavaScript: experiment/src/app/main.ts bundled for the browser with
 * esbuild. Nothing built is committed; the bundle is cached under <repo>/.cache/experiment/ keyed
 * by a hash of its sources, and rebuilt when they change.
 */
const require = createRequire(import.meta.url);

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sourceFiles(p, out);
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

export async function buildDisplayBundle(options: { cacheDir?: string } = {}): Promise<{ js: string; cached: boolean; path: string | null }> {
  // Each workspace's entry is <workspace>/src/index.ts (package.json is not an exported subpath).
  const workspaceDir = (name: string) => dirname(dirname(require.resolve(name)));
  const experimentDir = workspaceDir('@orthostim/experiment');
  const protocolDir = workspaceDir('@orthostim/protocol');
  const rdmDir = workspaceDir('@orthostim/rdm');
  const esbuild = await import('esbuild');
  const hash = createHash('sha256').update(esbuild.version);
  for (const d of [experimentDir, protocolDir, rdmDir]) for (const f of sourceFiles(join(d, 'src'))) hash.update(f).update(readFileSync(f));
  const key = hash.digest('hex').slice(0, 16);
  const cacheDir = options.cacheDir ?? join(dirname(experimentDir), '.cache', 'experiment');
  const cachePath = join(cacheDir, `display-${key}.js`);
  if (existsSync(cachePath)) return { js: readFileSync(cachePath, 'utf8'), cached: true, path: cachePath };
  const result = await esbuild.build({
    entryPoints: [join(experimentDir, 'src', 'app', 'main.ts')],
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
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(cachePath, js);
    return { js, cached: false, path: cachePath };
  } catch {
    return { js, cached: false, path: null }; // a read-only checkout still serves from memory
  }
}

/** jsPsych's stylesheet, served beside the bundle. */
export function jspsychCss(): string {
  return readFileSync(join(dirname(dirname(require.resolve('jspsych'))), 'css', 'jspsych.css'), 'utf8');
}
