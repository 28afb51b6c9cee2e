/**
 * `orthostim analyze` on the real BIDS dataset ../shared/data/bids/haxby2001 (Haxby et al. 2001,
 * subject 1: 12 runs of 121 volumes, 8 object categories in blocks, 25 mm voxels; brain and
 * ventral-temporal masks under derivatives/masks). The categories are the "images": the events'
 * trial_type are category names, so the test writes a stimulus set whose image ids are those names,
 * with a faces-vs-houses model RDM and a random one.
 *
 * The region of interest: at 25 mm the ventral-temporal mask is a single voxel, so the region is
 * that voxel's searchlight sphere, the voxel and its 26 neighbours inside the brain mask (radius
 * sqrt(3) voxels = 43 mm), written by the test as a label image; the mask's own voxel is a second
 * region. Distance: crossnobis (cross-validated over the 12 runs, noise-normalised by the GLM
 * residuals), unbiased for a region of a few voxels. Expected from Haxby et al.: faces and houses
 * far apart in ventral temporal cortex, i.e. their dissimilarity above the median of all pairs.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { condensedIndex, createRng } from '@orthostim/rdm';
import { hasShared, requireShared, runCli, writeTestStimulusSet } from '@orthostim/test';
import { readNifti, writeNifti } from '../src/io/nifti';
import { readOutputIndex } from '../src/pipeline/output-index';

const HAXBY = 'data/bids/haxby2001';
const CATEGORIES = ['scissors', 'face', 'cat', 'shoe', 'house', 'scrambledpix', 'bottle', 'chair'];
const tmp = mkdtempSync(join(tmpdir(), 'orthostim-haxby-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The VT voxel's 3 x 3 x 3 neighbourhood inside the brain mask as region 1, the voxel itself as region 2. */
function writeVtRegions(maskDir: string, path: string): { nRegion: number } {
  const brain = readNifti(join(maskDir, 'sub-1_desc-brain_mask.nii.gz'));
  const vt = readNifti(join(maskDir, 'sub-1_desc-vt_mask.nii.gz'));
  const [nx, ny] = brain.dims;
  const labels = new Uint8Array(brain.data.length);
  const vtVoxels = [...vt.data.keys()].filter((g) => vt.data[g]! > 0);
  let nRegion = 0;
  for (let g = 0; g < labels.length; g++) {
    if (!(brain.data[g]! > 0)) continue;
    const [i, j, k] = [g % nx, Math.floor(g / nx) % ny, Math.floor(g / (nx * ny))];
    const near = vtVoxels.some(
      (v) =>
        Math.max(
          Math.abs(i - (v % nx)),
          Math.abs(j - (Math.floor(v / nx) % ny)),
          Math.abs(k - Math.floor(v / (nx * ny))),
        ) <= 1,
    );
    if (near) {
      labels[g] = 1;
      nRegion++;
    }
  }
  for (const v of vtVoxels) labels[v] = 2;
  writeNifti(
    path,
    { dims: brain.dims.slice(0, 3), data: labels, affine: brain.affine },
    { datatype: 'uint8', intent: 'label' },
  );
  return { nRegion };
}

describe.skipIf(!hasShared(HAXBY))('orthostim analyze on haxby2001 (real BIDS data)', () => {
  it('fits 12 runs; the ventral-temporal region RDM puts faces and houses far apart', async () => {
    const bids = requireShared(HAXBY);
    const n = CATEGORIES.length;
    const facesHouses: number[] = [];
    const random: number[] = [];
    const rng = createRng(11);
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const pair = new Set([CATEGORIES[i], CATEGORIES[j]]);
        facesHouses.push(pair.has('face') && pair.has('house') ? 1 : pair.has('face') || pair.has('house') ? 0.6 : 0.2);
        random.push(rng());
      }
    }
    const stimuli = await writeTestStimulusSet(join(tmp, 'set'), n, 16, {
      ids: CATEGORIES,
      distance: 'correlation',
      rdms: { faces_houses: facesHouses, random },
    });
    const rois = join(tmp, 'vt-regions.nii.gz');
    const { nRegion } = writeVtRegions(join(bids, 'derivatives', 'masks', 'sub-1'), rois);
    writeFileSync(join(tmp, 'vt-regions.tsv'), 'index\tname\n1\tvt-sphere\n2\tvt-mask\n');
    const out = join(tmp, 'out');
    const res = await runCli([
      'analyze',
      bids,
      out,
      'participant',
      '--participant-label',
      'sub-1',
      '--stimuli',
      stimuli,
      '--distance',
      'crossnobis',
      '--radius-vox',
      '1',
      '--rois',
      rois,
      '--roi-labels',
      join(tmp, 'vt-regions.tsv'),
      '--threads',
      '2',
    ]);
    expect(res.stderr).not.toMatch(/internal error/);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/sub-1: 12 run\(s\), 129 mask voxels/);
    const dir = join(out, 'sub-1');
    const index = readOutputIndex(dir);
    expect(index.files.filter((f) => f.stat === 'beta')).toHaveLength(12 * n);
    const roi = JSON.parse(readFileSync(join(dir, index.files.find((f) => f.stat === 'roi-rdm')!.path), 'utf8')) as {
      images: string[];
      regions: {
        name: string;
        nVoxels: number;
        rdm: (number | null)[];
        models: { layer: string; method: string; r: number | null }[];
      }[];
    };
    expect(roi.images).toEqual(CATEGORIES);
    const region = roi.regions.find((r) => r.name === 'vt-sphere')!;
    expect(region.nVoxels).toBe(nRegion - 1); // the VT voxel itself is region 2
    const rdm = region.rdm.map((v) => v ?? Number.NaN);
    expect(rdm.every(Number.isFinite)).toBe(true);
    const faceHouse = rdm[condensedIndex(CATEGORIES.indexOf('face'), CATEGORIES.indexOf('house'), n)]!;
    const sorted = [...rdm].sort((a, b) => a - b);
    const median = (sorted[13]! + sorted[14]!) / 2;
    expect(faceHouse).toBeGreaterThan(median);
    expect(faceHouse).toBeGreaterThanOrEqual(sorted[20]!); // in the top quarter of the 28 pairs
    expect(roi.regions.find((r) => r.name === 'vt-mask')!.nVoxels).toBe(1);
    const report = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(report).toContain('Regions of interest');
    expect(report).toContain('vt-sphere');
  });
});
