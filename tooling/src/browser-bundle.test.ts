import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { buildBrowserBundle } from './browser-bundle';

const tmp = mkdtempSync(join(tmpdir(), 'orthostim-browser-bundle-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Write a file dated a minute ago (a build never caches inputs modified in the last 2 s). */
function writeOld(path: string, text: string, ageS = 60): void {
  writeFileSync(path, text);
  const t = Date.now() / 1000 - ageS;
  utimesSync(path, t, t);
}

describe('buildBrowserBundle', () => {
  it('bundles a TypeScript entry into a script, reuses it, and rebuilds when a source changes', async () => {
    writeOld(join(tmp, 'greet.ts'), 'export const greet = (who: string): string => `hello ${who}`;\n');
    writeOld(join(tmp, 'main.ts'), "import { greet } from './greet';\n(globalThis as any).out = greet('display');\n");
    const spec = { name: 'demo', entry: join(tmp, 'main.ts'), cacheDir: join(tmp, 'cache') };
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
    writeOld(join(tmp, 'greet.ts'), 'export const greet = (who: string): string => `hi ${who}`;\n', 30);
    const third = await buildBrowserBundle(spec);
    expect(third.cached).toBe(false);
    expect(run(third.js)).toBe('hi display');
  });
});
