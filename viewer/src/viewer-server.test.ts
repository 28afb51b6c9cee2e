import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '@orthostim/test';
import { writeNifti } from '@orthostim/analysis';
import { OutputIndexBuilder } from '@orthostim/analysis';
import { startViewer, type ViewerServer } from './viewer-server';

const tmp = mkdtempSync(join(tmpdir(), 'orthostim-view-'));
const out = join(tmp, 'out');
let viewer: ViewerServer;

/** A raw GET whose path is sent as written (fetch would normalise `..` away). */
function rawGet(
  url: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Buffer }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method: 'GET', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  const affine = [2, 0, 0, -4, 0, 2, 0, -5, 0, 0, 2, -6, 0, 0, 0, 1];
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
    const name =
      level === 'group'
        ? 'space-MNI152NLin2009cAsym_desc-conv1_rsa-standard_stat-t_statmap.nii.gz'
        : 'sub-01_desc-conv1_rsa-standard_stat-z_statmap.nii.gz';
    writeNifti(join(out, folder, name), {
      dims: [3, 4, 5],
      data: Float32Array.from({ length: 60 }, (_, i) => i / 10),
      affine,
    });
    index.add({ path: name, layer: 'conv1', method: 'standard', stat: level === 'group' ? 't' : 'z' });
    index.add({ path: 'report.html', stat: 'report' });
    writeFileSync(join(out, folder, 'report.html'), '<html></html>');
    index.write(join(out, folder));
  }
  writeFileSync(join(out, 'sub-01', 'notes.txt'), 'not a served type');
  writeFileSync(join(tmp, 'secret.txt'), 'outside the output folder');
  // Links in the output folder: to a file outside it (as to /etc/shadow), to a folder outside, and one inside.
  symlinkSync(join(tmp, 'secret.txt'), join(out, 'sub-01', 'shadow.json'));
  symlinkSync(tmp, join(out, 'sub-01', 'up'));
  symlinkSync(join(out, 'sub-01', 'report.html'), join(out, 'group', 'report-link.html'));
  viewer = await startViewer({ dir: out, port: 0, cacheDir: join(tmp, 'cache') });
});

afterAll(async () => {
  await viewer?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('orthostim view server', () => {
  it('listens on loopback and serves the page, the map list from index.json and a map', async () => {
    expect(viewer.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await fetch(viewer.url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script src="/viewer.js"></script>');
    const maps = (await (await fetch(new URL('/api/maps', viewer.url))).json()) as {
      path: string;
      label: string;
      stat: string;
      level: string;
    }[];
    expect(maps.map((m) => m.path).sort()).toEqual([
      'group/space-MNI152NLin2009cAsym_desc-conv1_rsa-standard_stat-t_statmap.nii.gz',
      'sub-01/sub-01_desc-conv1_rsa-standard_stat-z_statmap.nii.gz',
    ]);
    expect(maps.find((m) => m.level === 'participant')!.label).toBe('sub-01 conv1 standard z');
    const file = await fetch(new URL('/files/sub-01/sub-01_desc-conv1_rsa-standard_stat-z_statmap.nii.gz', viewer.url));
    expect(file.status).toBe(200);
    expect(
      Buffer.from(await file.arrayBuffer()).equals(
        readFileSync(join(out, 'sub-01', 'sub-01_desc-conv1_rsa-standard_stat-z_statmap.nii.gz')),
      ),
    ).toBe(true);
  });

  it('refuses paths that leave the folder and file types it does not serve', async () => {
    for (const path of [
      '/files/../secret.txt',
      '/files/%2e%2e/secret.txt',
      '/files/sub-01/..%2f..%2fsecret.txt',
      '/files/sub-01/../../secret.txt',
      '/files//etc/passwd',
      '/files/%2fetc%2fpasswd',
      '/files/sub-01/notes.txt',
      '/files/sub-01/shadow.json',
      '/files/sub-01/up/secret.txt',
    ]) {
      const res = await rawGet(viewer.url, path);
      expect(res.status, path).toBe(404);
      expect(res.body.toString()).not.toContain('outside the output folder');
    }
    expect((await fetch(new URL('/files/sub-01/report.html', viewer.url))).status).toBe(200);
    expect((await fetch(viewer.url, { method: 'POST' })).status).toBe(405);
    expect((await fetch(new URL('/files/group/report-link.html', viewer.url))).status).toBe(200);
  });

  it('answers only its own Host names and pages, and bad percent-encoding with 400', async () => {
    const port = new URL(viewer.url).port;
    const rebound = await rawGet(viewer.url, '/api/maps', { host: `rebind.evil.example:${port}` });
    expect(rebound.status).toBe(403);
    expect(rebound.body.toString()).toMatch(/host \\"rebind.evil.example\\" is not one this server answers to/);
    const foreign = await rawGet(viewer.url, '/files/sub-01/report.html', { origin: 'http://evil.example' });
    expect(foreign.status).toBe(403);
    const own = await rawGet(viewer.url, '/files/sub-01/report.html', { origin: `http://127.0.0.1:${port}` });
    expect(own.status).toBe(200);
    expect((await rawGet(viewer.url, '/files/%E0%A4%A')).status).toBe(400);
    const allowed = await startViewer({ dir: out, port: 0, cacheDir: join(tmp, 'cache'), allowedHosts: ['mri-pc'] });
    try {
      const p = new URL(allowed.url).port;
      expect((await rawGet(allowed.url, '/api/maps', { host: `mri-pc:${p}` })).status).toBe(200);
      expect((await rawGet(allowed.url, '/api/maps', { host: `other-pc:${p}` })).status).toBe(403);
    } finally {
      await allowed.close();
    }
  });

  it('serves the NiiVue bundle built with esbuild', async () => {
    const js = await fetch(new URL('/viewer.js', viewer.url));
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    const text = await js.text();
    expect(text.length).toBeGreaterThan(500_000); // NiiVue itself is in it
    expect(text).toContain('/api/maps');
  });

  it('the command refuses a non-loopback host and a folder without index.json', async () => {
    const host = await runCli(['view', out, '--host', '0.0.0.0']);
    expect(host.code).toBe(2);
    expect(host.stderr).toMatch(/--host must be a loopback address/);
    mkdirSync(join(tmp, 'empty'));
    const empty = await runCli(['view', join(tmp, 'empty'), '--port', '0']);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/no index\.json listing NIfTI maps/);
  });
});
