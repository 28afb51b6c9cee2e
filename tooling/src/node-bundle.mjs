/**
 * Node bundles of the TypeScript sources, built with esbuild and cached on disk: the `orthostim`
 * command starts from one (about 0.25 s instead of 0.5 s under tsx, whose loader hooks run on a
 * separate thread) and worker threads start from one without a TypeScript loader.
 *
 * Plain JavaScript, so bin/orthostim.js can use it before anything can load TypeScript.
 *
 * A build lives in `<cacheDir>/b-<random>/`; `<cacheDir>/manifest.json` names the current one and
 * the size and mtime of every file it was built from (esbuild's metafile, plus `watch`). A build is
 * used only while all of them are unchanged, so an edited source is never run stale; otherwise it
 * is rebuilt (0.2 s). Builds are written into their own folder and the manifest is renamed into
 * place, so processes building at once never see half a build. Superseded builds are removed after
 * a day (a running process may still import a lazy chunk of its own).
 *
 * Each bundled module keeps its own location: `import.meta.url` is replaced by the module's source
 * URL, so files found next to a module (package.json, static assets, worker entries) resolve as
 * they do unbundled. Packages other than the workspaces (`@orthostim/*`) stay external when
 * `externalPackages` is set.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const MANIFEST = 'manifest.json';
const SCHEMA = 'orthostim.node-bundle/1';
const KEEP_OLD_MS = 24 * 3600 * 1000;
/** Inputs modified this recently may have changed while esbuild read them: such a build is used once, not cached. */
const SETTLE_MS = 2000;

function stamp(path) {
  try {
    const s = statSync(path);
    return `${s.size}:${s.mtimeMs}`;
  } catch {
    return 'missing';
  }
}

/** What keys a build besides its inputs (esbuild's own version is not read on a warm start). */
function specKey(spec) {
  return JSON.stringify({
    key: spec.key ?? '',
    options: spec.options,
    externalPackages: !!spec.externalPackages,
    workingDir: workingDir(spec),
  });
}

function workingDir(spec) {
  return resolve(spec.workingDir ?? process.cwd());
}

/**
 * The folder of the cached build of `spec` when it is current (every input unchanged), else null.
 * Needs no esbuild: this is the whole cost of a warm start (a few milliseconds).
 */
export function currentNodeBundle(spec) {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(join(spec.cacheDir, MANIFEST), 'utf8'));
  } catch {
    return null;
  }
  if (manifest?.schema !== SCHEMA || manifest.spec !== specKey(spec)) return null;
  if (manifest.node !== process.versions.node) return null;
  for (const [path, s] of Object.entries(manifest.inputs)) if (stamp(path) !== s) return null;
  const dir = join(spec.cacheDir, manifest.dir);
  return existsSync(dir) ? dir : null;
}

/** esbuild plugin: per-module `import.meta.url`, and (optionally) external non-workspace packages. */
function sourceLocationPlugin(externalPackages) {
  return {
    name: 'orthostim-source-locations',
    setup(build) {
      if (externalPackages) {
        build.onResolve({ filter: /^[^./]/ }, (args) =>
          args.path.startsWith('@orthostim/') ? undefined : { path: args.path, external: true },
        );
      }
      build.onLoad({ filter: /\.(ts|mts|js|mjs)$/ }, async (args) => {
        if (args.path.includes('/node_modules/')) return undefined;
        const text = await readFile(args.path, 'utf8');
        const loader = /\.m?ts$/.test(args.path) ? 'ts' : 'js';
        if (!text.includes('import.meta.url')) return { contents: text, loader };
        return { contents: text.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)), loader };
      });
    },
  };
}

function removeOldBuilds(cacheDir, keep) {
  try {
    for (const name of readdirSync(cacheDir)) {
      if (!name.startsWith('b-') || name === keep) continue;
      const p = join(cacheDir, name);
      if (Date.now() - statSync(p).mtimeMs > KEEP_OLD_MS) rmSync(p, { recursive: true, force: true });
    }
  } catch {
    // best effort
  }
}

/**
 * Build `spec` (or reuse the current build) and return its folder. `spec.options` are esbuild
 * options without outdir/outfile/write/metafile (JSON-serialisable: they key the cache).
 */
export async function ensureNodeBundle(spec) {
  const current = currentNodeBundle(spec);
  if (current) return { dir: current, built: false };
  const esbuild = await import('esbuild');
  mkdirSync(spec.cacheDir, { recursive: true });
  const name = `b-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  const dir = join(spec.cacheDir, name);
  const started = Date.now();
  const result = await esbuild.build({
    platform: 'node',
    target: `node${process.versions.node.split('.')[0]}`,
    bundle: true,
    logLevel: 'silent',
    ...spec.options,
    absWorkingDir: workingDir(spec),
    outdir: dir,
    write: true,
    metafile: true,
    plugins: [sourceLocationPlugin(!!spec.externalPackages)],
  });
  const inputs = {};
  let settled = true;
  const files = [
    ...Object.keys(result.metafile.inputs).map((p) => resolve(workingDir(spec), p)),
    ...(spec.watch ?? []),
  ];
  for (const path of files) {
    inputs[path] = stamp(path);
    try {
      if (statSync(path).mtimeMs > started - SETTLE_MS) settled = false;
    } catch {
      // a missing watched file is recorded as missing
    }
  }
  if (settled) {
    const manifest = {
      schema: SCHEMA,
      spec: specKey(spec),
      node: process.versions.node,
      esbuild: esbuild.version,
      dir: name,
      built: new Date().toISOString(),
      inputs,
    };
    const tmp = join(spec.cacheDir, `.${MANIFEST}.${name}`);
    writeFileSync(tmp, `${JSON.stringify(manifest, null, 1)}\n`);
    renameSync(tmp, join(spec.cacheDir, MANIFEST));
    removeOldBuilds(spec.cacheDir, name);
  }
  return { dir, built: true };
}
