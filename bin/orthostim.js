#!/usr/bin/env node
// The orthostim command. Sources are TypeScript; no build step is needed. The command runs from an
// esbuild bundle of them cached in .cache/cli/ and rebuilt (0.2 s) whenever one of its sources
// changed (tooling/src/node-bundle.mjs): it starts in about half the time tsx takes. Where no
// bundle can be built or written (a read-only install), or with ORTHOSTIM_TSX=1, it runs through
// tsx. ORTHOSTIM_CLI_CACHE names another cache folder.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ensureNodeBundle } from '../tooling/src/node-bundle.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

async function bundledEntry() {
  if (process.env.ORTHOSTIM_TSX === '1') return null;
  try {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    const { dir } = await ensureNodeBundle({
      cacheDir: process.env.ORTHOSTIM_CLI_CACHE || join(root, '.cache', 'cli'),
      workingDir: root,
      options: { entryPoints: [join(root, 'cli', 'main.ts')], format: 'esm', splitting: true },
      externalPackages: true,
      // package.json exports and tsconfig.json change how sources resolve and compile.
      watch: [
        join(root, 'package.json'),
        join(root, 'tsconfig.json'),
        ...pkg.workspaces.map((w) => join(root, w, 'package.json')),
      ],
    });
    return pathToFileURL(join(dir, 'main.js')).href;
  } catch (err) {
    if (process.env.ORTHOSTIM_VERBOSE === '1' || process.argv.includes('--verbose')) {
      process.stderr.write(`orthostim: no command bundle (${err?.message ?? err}); running through tsx\n`);
    }
    return null;
  }
}

const entry = await bundledEntry();
if (entry) {
  await import(entry);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../cli/main.ts');
}
