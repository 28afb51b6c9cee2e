import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { buildBrowserBundle } from '@orthostim/tooling';

/**
 * The participant display's JavaScript: experiment/src/app/main.ts bundled for the browser with
 * esbuild. Nothing built is committed; the bundle is cached under <repo>/.cache/experiment/ keyed
 * by a hash of its sources, and rebuilt when they change.
 */
const require = createRequire(import.meta.url);

export async function buildDisplayBundle(
  options: { cacheDir?: string } = {},
): Promise<{ js: string; cached: boolean; path: string | null }> {
  // Each workspace's entry is <workspace>/src/index.ts (package.json is not an exported subpath).
  const workspaceDir = (name: string) => dirname(dirname(require.resolve(name)));
  const experimentDir = workspaceDir('@orthostim/experiment');
  return buildBrowserBundle({
    name: 'display',
    entry: join(experimentDir, 'src', 'app', 'main.ts'),
    sourceDirs: [experimentDir, workspaceDir('@orthostim/protocol'), workspaceDir('@orthostim/rdm')].map((d) =>
      join(d, 'src'),
    ),
    cacheDir: options.cacheDir ?? join(dirname(experimentDir), '.cache', 'experiment'),
  });
}

/** jsPsych's stylesheet, served beside the bundle. */
export function jspsychCss(): string {
  return readFileSync(join(dirname(dirname(require.resolve('jspsych'))), 'css', 'jspsych.css'), 'utf8');
}
