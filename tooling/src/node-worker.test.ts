import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeWorkerScript, startNodeWorker } from './node-worker';

const tmp = mkdtempSync(join(tmpdir(), 'orthostim-node-worker-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// A TypeScript worker that imports a sibling module and a package, and reports where it runs from.
mkdirSync(join(tmp, 'src'));
writeFileSync(join(tmp, 'package.json'), '{ "type": "module" }\n');
writeFileSync(join(tmp, 'src', 'twice.ts'), 'export const twice = (x: number): number => 2 * x;\n');
writeFileSync(
  join(tmp, 'src', 'echo-worker.ts'),
  `import { parentPort, workerData } from 'node:worker_threads';
import { twice } from './twice';
parentPort!.on('message', (x: number) => parentPort!.postMessage({ value: twice(x) + workerData.add, url: import.meta.url }));
`,
);
const entry = pathToFileURL(join(tmp, 'src', 'echo-worker.ts'));

function ask(worker: Worker, x: number): Promise<{ value: number; url: string }> {
  return new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`worker exited with code ${code}`)));
    worker.postMessage(x);
  });
}

describe('startNodeWorker', () => {
  it('runs a TypeScript module from a cached bundle that keeps its source location', async () => {
    const spec = { name: 'echo', entry, cacheDir: join(tmp, 'cache') };
    const worker = await startNodeWorker(spec, { workerData: { add: 1 } });
    try {
      expect(await ask(worker, 20)).toEqual({ value: 41, url: entry.href });
    } finally {
      await worker.terminate();
    }
    const script = await nodeWorkerScript(spec);
    expect(script?.href.startsWith(pathToFileURL(join(tmp, 'cache')).href)).toBe(true);
  });

  it('runs it through tsx where no bundle can be written', async () => {
    const blocked = join(tmp, 'not-a-folder');
    writeFileSync(blocked, '');
    const spec = { name: 'echo-tsx', entry, cacheDir: join(blocked, 'cache') };
    expect(await nodeWorkerScript(spec)).toBeNull();
    const worker = await startNodeWorker(spec, { workerData: { add: 2 } });
    try {
      expect(await ask(worker, 5)).toEqual({ value: 12, url: entry.href });
    } finally {
      await worker.terminate();
    }
  });
});
