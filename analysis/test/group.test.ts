import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { createNormalRng } from '@orthostim/rdm';
import { runGroup } from '../src/pipeline/group';
import type { GroupSettings } from '../src/pipeline/settings';
import { writeParticipantZMaps } from './participant-maps';

const tmp = mkdtempSync(join(tmpdir(), 'orthostim-group-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const DIMS = [9, 8, 7] as const;
const AFFINE = [3, 0, 0, -12, 0, 3, 0, -12, 0, 0, 3, -9];
const LAYERS = ['conv1', 'inception_3a', 'inception_4e'];

/** Participants' Fisher-z maps: each layer has an effect in its own slab of x, noise elsewhere. */
function writeParticipants(dir: string, n: number): void {
  const noise = createNormalRng(3);
  writeParticipantZMaps(dir, {
    participants: n,
    dims: DIMS,
    affine: AFFINE,
    models: LAYERS.map((layer) => ({ layer, method: 'standard' as const })),
    value: (_p, l, g) => {
      if (g === 5) return Number.NaN; // outside one participant's mask: left out of the test
      const x = g % DIMS[0];
      return (x >= 3 * l && x < 3 * l + 3 ? 0.6 : 0) + 0.2 * noise();
    },
  });
}

describe('runGroup on worker threads', () => {
  it('writes the same maps and finds the same effects with 1 and 2 threads', async () => {
    const base = join(tmp, 'one');
    writeParticipants(base, 7);
    const two = join(tmp, 'two');
    cpSync(base, two, { recursive: true });
    const settings: GroupSettings = {
      alpha: 0.05,
      nPermutations: 200,
      seed: 1,
      connectivity: 26,
      varianceSmoothingMm: 6,
    };
    const run = (outputDir: string, threads: number) =>
      runGroup({ outputDir, bidsDir: join(tmp, 'no-bids'), settings, threads, settingsRecord: {} });
    const a = await run(base, 1);
    const b = await run(two, 2);
    expect(b.tests.map((t) => [t.layer, t.nSignificant, t.maxAbsT, t.minFweP])).toEqual(
      a.tests.map((t) => [t.layer, t.nSignificant, t.maxAbsT, t.minFweP]),
    );
    // Each layer's planted slab (3 x-columns x 8 x 7 = 168 voxels) is found.
    for (const t of a.tests) expect(t.nSignificant).toBeGreaterThan(100);
    const maps = readdirSync(join(base, 'group'))
      .filter((f) => f.endsWith('.nii.gz'))
      .sort();
    expect(maps.length).toBeGreaterThanOrEqual(LAYERS.length * 5);
    expect(
      readdirSync(join(two, 'group'))
        .filter((f) => f.endsWith('.nii.gz'))
        .sort(),
    ).toEqual(maps);
    for (const f of maps)
      expect(
        gunzipSync(readFileSync(join(two, 'group', f))).equals(gunzipSync(readFileSync(join(base, 'group', f)))),
      ).toBe(true);
  });
});
