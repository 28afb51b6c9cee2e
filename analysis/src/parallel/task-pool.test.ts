import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { OrthostimError } from '@orthostim/protocol';
import { createNormalRng } from '@orthostim/rdm';
import { encodeGrid } from '../io/encode-grid';
import { encodeNiftiHeader } from '../io/nifti';
import { signFlipTest } from '../stats/sign-flip';
import { TaskPool } from './task-pool';

const tmp = mkdtempSync(join(tmpdir(), 'orthostim-taskpool-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('TaskPool (worker threads by task name)', () => {
  it("gives the same results as the calling thread for every kind, and keeps user errors' class and code", async () => {
    const pool = TaskPool.start(2);
    try {
      const rnd = createNormalRng(2);
      const maps = Array.from({ length: 6 }, () => Float32Array.from({ length: 50 }, () => 0.3 + rnd()));
      const [remote, local] = [
        await pool.run('sign-flip', { maps, options: { nPermutations: 64, seed: 3 } }),
        signFlipTest(maps, { nPermutations: 64, seed: 3 }),
      ];
      expect(Array.from(remote.t)).toEqual(Array.from(local.t));
      expect(Array.from(remote.fweP)).toEqual(Array.from(local.fweP));
      const task = {
        header: encodeNiftiHeader({ dims: [4, 3, 2], affine: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0] }),
        gridSize: 24,
        values: Float32Array.of(0.5, -0.25),
        voxels: Int32Array.of(3, 17),
        transform: 'fisher-z' as const,
        fill: Number.NaN,
        gzipLevel: 1,
      };
      const bytes = await Promise.all([0, 1, 2, 3].map(() => pool.run('encode-grid', task)));
      for (const b of bytes) expect(Buffer.from(b).equals(Buffer.from(encodeGrid(task)))).toBe(true);
      const err = await pool.run('sign-flip', { maps: maps.slice(0, 1), options: {} }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OrthostimError);
      expect((err as OrthostimError).code).toBe('E_USAGE');
      expect((err as Error).message).toMatch(/at least 2 participants; got 1/);
    } finally {
      await pool.close();
    }
    await expect(pool.run('encode-grid', {} as never)).rejects.toThrow(/after close/);
  });

  it('does not keep a process alive once its tasks are done, even if never closed', () => {
    const script = join(tmp, 'abandon.mts');
    writeFileSync(
      script,
      `import { TaskPool } from ${JSON.stringify(fileURLToPath(new URL('./task-pool.ts', import.meta.url)))};
const pool = TaskPool.start(2);
const r = await pool.run('sign-flip', { maps: [Float32Array.of(1, 2, 3), Float32Array.of(2, 1, 4)], options: { nPermutations: 4 } });
process.stdout.write(String(r.nPatterns));
`,
    );
    const res = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 30_000 });
    expect(res.signal).toBeNull(); // not killed by the timeout
    expect(res.status).toBe(0);
    expect(res.stdout).toBe('4');
  });
});
