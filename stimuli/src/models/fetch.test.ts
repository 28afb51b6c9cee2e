import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '@orthostim/protocol';
import { sha256Hex } from '@orthostim/protocol/node';
import { seededOnnxNetwork, writeGoogLeNetOnnx } from '../../test/support/build-onnx';
import { fetchModel, MODEL_SOURCES, resolveModelSource } from './fetch';
import { readWeightsCache } from './weights-cache';
import { readOnnxWeights } from './weights-onnx';

/** A local stand-in for GitHub: the file, a redirect to it (as LFS does), a cut-off response and a 404. */
let server: Server;
let base: string;
let tmp: string;
let onnx: Buffer;
let onnxSha: string;
const hits: string[] = [];

beforeAll(async () => {
  process.env.ORTHOSTIM_PROGRESS = '0';
  tmp = mkdtempSync(join(tmpdir(), 'orthostim-fetch-'));
  onnx = readFileSync(writeGoogLeNetOnnx(join(tmp, 'served.onnx'), seededOnnxNetwork(31), { encoding: 'raw' }));
  onnxSha = sha256Hex(onnx);
  server = createServer((req, res) => {
    hits.push(req.url ?? '');
    if (req.url === '/media/googlenet-7.onnx') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': onnx.length });
      res.end(onnx);
    } else if (req.url === '/raw/googlenet-7.onnx') {
      res.writeHead(302, { location: `${base}/media/googlenet-7.onnx` });
      res.end();
    } else if (req.url === '/truncated.onnx') {
      res.writeHead(200, { 'content-length': onnx.length });
      res.write(onnx.subarray(0, 100_000), () => res.destroy());
    } else if (req.url === '/lfs-pointer') {
      const text = `version https://git-lfs.github.com/spec/v1\noid sha256:${onnxSha}\nsize ${onnx.length}\n`;
      res.writeHead(200, { 'content-length': Buffer.byteLength(text) });
      res.end(text);
    } else {
      res.writeHead(404);
      res.end('not found');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(tmp, { recursive: true, force: true });
});

const cacheEnv = (name: string) => ({ ORTHOSTIM_CACHE: join(tmp, name) });

async function rejection(p: Promise<unknown>): Promise<InputError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InputError);
  expect((err as Error).message).not.toContain('\n');
  return err as InputError;
}

/** No temporary or half-written files anywhere under the cache. */
function leftovers(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => /partial|\.tmp/.test(f));
}

describe('fetchModel', () => {
  it('downloads through a redirect, verifies, converts once, then finds the cache', async () => {
    const env = cacheEnv('ok');
    const first = await fetchModel('googlenet', { url: `${base}/raw/googlenet-7.onnx`, sha256: onnxSha, env });
    expect(first).toMatchObject({
      converted: true,
      downloaded: true,
      cacheDir: join(tmp, 'ok', 'googlenet'),
      onnxPath: join(tmp, 'ok', 'downloads', 'googlenet-7.onnx'),
    });
    expect(hits.slice(-2)).toEqual(['/raw/googlenet-7.onnx', '/media/googlenet-7.onnx']);
    expect(sha256Hex(readFileSync(first.onnxPath))).toBe(onnxSha);
    const cached = readWeightsCache(first.cacheDir);
    const direct = readOnnxWeights(join(tmp, 'served.onnx'));
    expect(cached.sha256).toBe(direct.sha256);
    expect(
      Buffer.from(
        cached.convs.get('inception_5b/5x5')!.filter.buffer,
        cached.convs.get('inception_5b/5x5')!.filter.byteOffset,
        48 * 128 * 25 * 4,
      ).equals(Buffer.from(direct.convs.get('inception_5b/5x5')!.filter.buffer)),
    ).toBe(true);
    expect(first.manifest?.source).toMatchObject({ name: 'googlenet-7.onnx', sha256: onnxSha, format: 'onnx' });

    const count = hits.length;
    const again = await fetchModel('googlenet', { url: `${base}/raw/googlenet-7.onnx`, sha256: onnxSha, env });
    expect(again).toMatchObject({ converted: false, downloaded: false });
    expect(hits.length).toBe(count);

    // --force downloads and converts again.
    const forced = await fetchModel('googlenet', {
      url: `${base}/raw/googlenet-7.onnx`,
      sha256: onnxSha,
      env,
      force: true,
    });
    expect(forced).toMatchObject({ converted: true, downloaded: true });
    expect(hits.length).toBe(count + 2);
    expect(leftovers(join(tmp, 'ok'))).toEqual([]);
  });

  it('rejects a wrong checksum, deleting the download and leaving no cache', async () => {
    const env = cacheEnv('badsum');
    const err = await rejection(
      fetchModel('googlenet', { url: `${base}/media/googlenet-7.onnx`, sha256: 'ab'.repeat(32), env }),
    );
    expect(err.message).toMatch(
      new RegExp(
        `^${base}/media/googlenet-7.onnx: SHA-256 ${onnxSha} does not match the expected (ab){32} for googlenet-7.onnx`,
      ),
    );
    expect(existsSync(join(tmp, 'badsum', 'googlenet'))).toBe(false);
    expect(existsSync(join(tmp, 'badsum', 'downloads', 'googlenet-7.onnx'))).toBe(false);
    expect(leftovers(join(tmp, 'badsum'))).toEqual([]);
  });

  it('checks the published size when the published checksum is expected', async () => {
    const err = await rejection(
      fetchModel('googlenet', { url: `${base}/media/googlenet-7.onnx`, env: cacheEnv('size') }),
    );
    expect(err.message).toContain(
      `got ${onnx.length} bytes; expected ${MODEL_SOURCES.googlenet.bytes} (googlenet-7.onnx)`,
    );
  });

  it('rejects a truncated response, an LFS pointer and an HTTP error', async () => {
    const env = cacheEnv('broken');
    const cut = await rejection(fetchModel('googlenet', { url: `${base}/truncated.onnx`, sha256: onnxSha, env }));
    expect(cut.message).toMatch(
      /truncated\.onnx: download (interrupted after 100000 of \d+ bytes|truncated: got 100000 of \d+ bytes)/,
    );
    const pointer = await rejection(fetchModel('googlenet', { url: `${base}/lfs-pointer`, sha256: onnxSha, env }));
    expect(pointer.message).toMatch(/got a Git LFS pointer/);
    const missing = await rejection(fetchModel('googlenet', { url: `${base}/nope`, sha256: onnxSha, env }));
    expect(missing.message).toBe(`${base}/nope: download failed with HTTP 404 Not Found`);
    expect(existsSync(join(tmp, 'broken', 'googlenet'))).toBe(false);
    expect(leftovers(join(tmp, 'broken'))).toEqual([]);
  });

  it('takes URL and checksum from the environment, and refuses malformed ones', () => {
    const s = resolveModelSource('googlenet', {
      env: { ORTHOSTIM_GOOGLENET_URL: 'http://mirror/x.onnx', ORTHOSTIM_GOOGLENET_SHA256: 'CD'.repeat(32) },
    });
    expect(s).toMatchObject({ url: 'http://mirror/x.onnx', sha256: 'cd'.repeat(32), bytes: null });
    expect(resolveModelSource('googlenet', { env: {} })).toMatchObject({
      url: MODEL_SOURCES.googlenet.url,
      bytes: 28_020_232,
    });
    expect(() => resolveModelSource('googlenet', { sha256: 'xyz', env: {} })).toThrow(
      /--sha256 must be 64 hex digits; got "xyz"/,
    );
    expect(() => resolveModelSource('googlenet', { url: 'ftp://a', env: {} })).toThrow(
      /--url must be an http\(s\) URL/,
    );
  });
});
