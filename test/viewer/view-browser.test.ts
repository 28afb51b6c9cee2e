/**
 * `orthostim view` in real headless Chromium (Debian's chromium; WebGL2 through SwiftShader): the
 * page lists the output folder's maps, NiiVue loads the chosen map over its folder's mean EPI with
 * the values and orientation that were written, the controls switch maps and retune the overlay,
 * and the canvas shows something.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { writeNifti } from '../../analysis/src/io/nifti';
import { OutputIndexBuilder } from '../../analysis/src/pipeline/output-index';
import { startViewer, type ViewerServer } from '@orthostim/viewer';
import { hasChromium, launchChromium } from '../src/browser';

const DIMS = [5, 6, 7] as const;
const N = DIMS[0] * DIMS[1] * DIMS[2];
// LPS-stored grid (x flipped), 2 x 2.5 x 3 mm: NiiVue must apply the sform we wrote.
const AFFINE = [-2, 0, 0, 40, 0, 2.5, 0, -50, 0, 0, 3, -20];
const zValues = Float32Array.from({ length: N }, (_, i) => (i % 11) / 4 - 1);
const tValues = Float32Array.from({ length: N }, (_, i) => (i % 7) - 2);
const meanEpi = Float32Array.from({ length: N }, (_, i) => 500 + (i % 13) * 20);

const tmp = mkdtempSync(join(tmpdir(), 'orthostim-view-browser-'));
const out = join(tmp, 'out');
let viewer: ViewerServer;
let browser: Browser | undefined;
let page: Page;
const pageErrors: string[] = [];

interface Shown {
  state: string | undefined;
  shown: string | undefined;
  volumes: { name: string; dims: number[]; values: number[]; calMin: number; calMax: number; matRAS: number[] }[];
}

async function shown(p: Page): Promise<Shown> {
  return p.evaluate(() => {
    const nv = (
      window as unknown as {
        orthostimViewer: {
          nv: {
            volumes: {
              name: string;
              hdr: { dims: number[] };
              img: ArrayLike<number>;
              cal_min: number;
              cal_max: number;
              matRAS: ArrayLike<number>;
            }[];
          };
        };
      }
    ).orthostimViewer.nv;
    return {
      state: document.body.dataset.state,
      shown: document.body.dataset.shown,
      volumes: nv.volumes.map((v) => ({
        name: v.name,
        dims: Array.from(v.hdr.dims),
        values: Array.from(v.img),
        calMin: v.cal_min,
        calMax: v.cal_max,
        matRAS: Array.from(v.matRAS),
      })),
    };
  });
}

async function waitShown(p: Page, path: string): Promise<Shown> {
  await p.waitForFunction(
    (want) => document.body.dataset.state === 'ready' && document.body.dataset.shown === want,
    path,
    { timeout: 30_000 },
  );
  return shown(p);
}

beforeAll(async () => {
  if (!hasChromium()) return;
  for (const [folder, level] of [
    ['sub-01', 'participant'],
    ['group', 'group'],
  ] as const) {
    mkdirSync(join(out, folder), { recursive: true });
    const index = new OutputIndexBuilder({
      level,
      ...(level === 'participant' ? { participant: '01' } : {}),
      space: 'MNI152NLin2009cAsym',
    });
    if (level === 'participant') {
      writeNifti(join(out, folder, 'sub-01_desc-mean_bold.nii.gz'), { dims: DIMS, data: meanEpi, affine: AFFINE });
      index.add({ path: 'sub-01_desc-mean_bold.nii.gz', stat: 'mean-epi' });
      writeNifti(join(out, folder, 'sub-01_desc-conv1_rsa-standard_stat-z_statmap.nii.gz'), {
        dims: DIMS,
        data: zValues,
        affine: AFFINE,
      });
      index.add({
        path: 'sub-01_desc-conv1_rsa-standard_stat-z_statmap.nii.gz',
        layer: 'conv1',
        method: 'standard',
        stat: 'z',
      });
    } else {
      writeNifti(join(out, folder, 'desc-conv1_rsa-standard_stat-t_statmap.nii.gz'), {
        dims: DIMS,
        data: tValues,
        affine: AFFINE,
      });
      index.add({
        path: 'desc-conv1_rsa-standard_stat-t_statmap.nii.gz',
        layer: 'conv1',
        method: 'standard',
        stat: 't',
      });
    }
    index.write(join(out, folder));
  }
  viewer = await startViewer({ dir: out, port: 0, cacheDir: join(tmp, 'cache') });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(viewer.url);
});

afterAll(async () => {
  await browser?.close();
  await viewer?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe.skipIf(!hasChromium())('orthostim view in Chromium', () => {
  it("lists the statistics and maps, and shows the z map over its folder's mean EPI with the written values and orientation", async () => {
    const s = await waitShown(page, 'sub-01/sub-01_desc-conv1_rsa-standard_stat-z_statmap.nii.gz');
    expect((await page.$$eval('#stat option', (os) => os.map((o) => (o as HTMLOptionElement).value))).sort()).toEqual([
      't',
      'z',
    ]);
    expect(await page.$eval('#stat', (e) => (e as HTMLSelectElement).value)).toBe('z');
    expect(await page.$$eval('#maps option', (os) => os.length)).toBe(1);
    expect(s.volumes).toHaveLength(2); // background, then overlay
    const [bg, overlay] = s.volumes;
    expect(bg!.dims.slice(1, 4)).toEqual([...DIMS]);
    expect(bg!.values).toEqual(Array.from(meanEpi));
    expect(overlay!.values).toEqual(Array.from(zValues));
    // NiiVue reorients to RAS voxel order: its matrix (row-major) is our affine with the x axis
    // flipped, x = 2 * i' + (40 - 2 * (5 - 1)) for the reversed index i' = 4 - i.
    expect(overlay!.matRAS.slice(0, 12).map((v) => Math.round(v * 1000) / 1000)).toEqual([
      2,
      0,
      0,
      40 - 2 * (DIMS[0] - 1),
      0,
      2.5,
      0,
      -50,
      0,
      0,
      3,
      -20,
    ]);
    expect(overlay!.calMin).toBe(0.2); // the viewer's default threshold for z
    expect(await page.textContent('#info')).toMatch(/space: MNI152NLin2009cAsym/);
  });

  it('switches to the group t map, retunes the threshold, and draws a non-blank canvas without page errors', async () => {
    await page.selectOption('#stat', 't');
    const s = await waitShown(page, 'group/desc-conv1_rsa-standard_stat-t_statmap.nii.gz');
    const overlay = s.volumes[s.volumes.length - 1]!;
    expect(overlay.values).toEqual(Array.from(tValues));
    expect(overlay.calMin).toBe(2);
    await page.fill('#thr', '3.5');
    await page.dispatchEvent('#thr', 'change');
    await page.waitForFunction(() => {
      const nv = (window as unknown as { orthostimViewer: { nv: { volumes: { cal_min: number }[] } } }).orthostimViewer
        .nv;
      return nv.volumes[nv.volumes.length - 1]!.cal_min === 3.5;
    });
    const png = await page.locator('#gl').screenshot();
    const { default: sharp } = await import('sharp');
    const stats = await sharp(png).stats();
    expect(Math.max(...stats.channels.map((c) => c.stdev))).toBeGreaterThan(5); // not a flat image
    expect(pageErrors).toEqual([]);
  });
});
