import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { buildBrowserBundle } from './browser-bundle';
import { currentNodeBundle, ensureNodeBundle, type NodeBundleSpec } from './node-bundle.mjs';

const tmp = mkdtempSync(join(tmpdir(), 'orthostim-node-bundle-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Write a file dated a minute ago (a build never caches inputs modified in the last 2 s). */
function writeOld(path: string, text: string, ageS = 60): void {
  writeFileSync(path, text);
  const t = Date.now() / 1000 - ageS;
  utimesSync(path, t, t);
}

function project(name: string): { root: string; spec: NodeBundleSpec } {
  const root = join(tmp, name);
  mkdirSync(join(root, 'src', 'lazy'), { recursive: true });
  writeOld(
    join(root, 'src', 'main.ts'),
    `import { join } from 'node:path';
import { z } from 'zod';
import { where, value } from './lib';
export const mainUrl: string = import.meta.url;
export { where, value };
export const joined = join('a', 'b');
export const schema = z.string();
export const lazy = () => import('./lazy/late');
`,
  );
  writeOld(
    join(root, 'src', 'lib.ts'),
    `export const where = (): string => import.meta.url;\nexport const value: number = 1;\n`,
  );
  writeOld(
    join(root, 'src', 'lazy', 'late.ts'),
    `export const late: string = new URL('./data.txt', import.meta.url).href;\n`,
  );
  writeOld(join(root, 'settings.json'), '{}');
  return {
    root,
    spec: {
      cacheDir: join(root, '.cache'),
      workingDir: root,
      options: { entryPoints: [join(root, 'src', 'main.ts')], format: 'esm', splitting: true },
      externalPackages: true,
      watch: [join(root, 'settings.json')],
    },
  };
}

async function load(dir: string): Promise<Record<string, unknown>> {
  return (await import(`${pathToFileURL(join(dir, 'main.js')).href}?t=${Math.random()}`)) as Record<string, unknown>;
}

describe('node bundles cached on disk (tooling/src/node-bundle.mjs)', () => {
  it("keeps each module's own import.meta.url, lazy chunks and external packages; reuses the build while nothing changed", async () => {
    const { root, spec } = project('p1');
    expect(currentNodeBundle(spec)).toBeNull();
    const first = await ensureNodeBundle(spec);
    expect(first.built).toBe(true);
    const mod = await load(first.dir);
    expect(mod.mainUrl).toBe(pathToFileURL(join(root, 'src', 'main.ts')).href);
    expect((mod.where as () => string)()).toBe(pathToFileURL(join(root, 'src', 'lib.ts')).href);
    expect(mod.joined).toBe(join('a', 'b'));
    const late = (await (mod.lazy as () => Promise<{ late: string }>)()).late;
    expect(late).toBe(pathToFileURL(join(root, 'src', 'lazy', 'data.txt')).href);
    expect(readdirSync(first.dir).length).toBeGreaterThan(1); // the lazy module is a chunk of its own
    const text = readFileSync(join(first.dir, 'main.js'), 'utf8');
    expect(text).toMatch(/from "zod"/); // a package stays external (resolved by Node at run time)
    expect(text).not.toMatch(/ZodString|class \$ZodType/);
    const again = await ensureNodeBundle(spec);
    expect(again).toEqual({ dir: first.dir, built: false });
    expect(currentNodeBundle(spec)).toBe(first.dir);
  });

  it('rebuilds when a source, a watched file or the options change, and never runs a stale build', async () => {
    const { root, spec } = project('p2');
    const first = await ensureNodeBundle(spec);
    writeOld(
      join(root, 'src', 'lib.ts'),
      `export const where = (): string => import.meta.url;\nexport const value: number = 2;\n`,
      30,
    );
    expect(currentNodeBundle(spec)).toBeNull();
    const second = await ensureNodeBundle(spec);
    expect(second.built).toBe(true);
    expect(second.dir).not.toBe(first.dir);
    expect((await load(second.dir)).value).toBe(2);
    expect(currentNodeBundle(spec)).toBe(second.dir);
    writeOld(join(root, 'settings.json'), '{"x": 1}', 20);
    expect(currentNodeBundle(spec)).toBeNull();
    const third = await ensureNodeBundle(spec);
    expect(currentNodeBundle(spec)).toBe(third.dir);
    expect(currentNodeBundle({ ...spec, options: { ...spec.options, minify: true } })).toBeNull();
    rmSync(join(root, 'src', 'lazy', 'late.ts'));
    expect(currentNodeBundle(spec)).toBeNull(); // a deleted input
  });

  it('uses a build made from just-modified sources once, without caching it', async () => {
    const { root, spec } = project('p3');
    writeFileSync(
      join(root, 'src', 'lib.ts'),
      `export const where = (): string => import.meta.url;\nexport const value: number = 3;\n`,
    ); // now
    const first = await ensureNodeBundle(spec);
    expect((await load(first.dir)).value).toBe(3);
    expect(currentNodeBundle(spec)).toBeNull();
    const second = await ensureNodeBundle(spec);
    expect(second.built).toBe(true);
  });

  it('lets processes build at once: each gets a whole build and the manifest names one of them', async () => {
    const { spec } = project('p4');
    const builds = await Promise.all([ensureNodeBundle(spec), ensureNodeBundle(spec), ensureNodeBundle(spec)]);
    for (const b of builds) expect((await load(b.dir)).value).toBe(1);
    expect(builds.map((b) => b.dir)).toContain(currentNodeBundle(spec));
  });
});

describe('buildBrowserBundle', () => {
  it('bundles a TypeScript entry into a script, reuses it, and rebuilds when a source changes', async () => {
    mkdirSync(join(tmp, 'web'));
    writeOld(join(tmp, 'web', 'greet.ts'), 'export const greet = (who: string): string => `hello ${who}`;\n');
    writeOld(
      join(tmp, 'web', 'main.ts'),
      "import { greet } from './greet';\n(globalThis as any).out = greet('display');\n",
    );
    const spec = { name: 'demo', entry: join(tmp, 'web', 'main.ts'), cacheDir: join(tmp, 'web-cache') };
    const run = (js: string) => {
      const context: { out?: string } = {};
      runInNewContext(js, context);
      return context.out;
    };
    const first = await buildBrowserBundle(spec);
    expect(first.cached).toBe(false);
    expect(run(first.js)).toBe('hello display');
    const second = await buildBrowserBundle(spec);
    expect(second).toEqual({ ...first, cached: true });
    writeOld(join(tmp, 'web', 'greet.ts'), 'export const greet = (who: string): string => `hi ${who}`;\n', 30);
    const third = await buildBrowserBundle(spec);
    expect(third.cached).toBe(false);
    expect(run(third.js)).toBe('hi display');
  });
});
