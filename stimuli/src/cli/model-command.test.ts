import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '@orthostim/protocol/node';
import { runCli, type CliResult } from '@orthostim/test';
import { seededOnnxNetwork, writeGoogLeNetOnnx } from '../../test/support/build-onnx';
import { readOnnxWeights } from '../models/weights-onnx';

let server: Server;
let base: string;
let tmp: string;
let onnxPath: string;
let onnxSha: string;
let digest: string;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'orthostim-model-cli-'));
  onnxPath = writeGoogLeNetOnnx(join(tmp, 'served.onnx'), seededOnnxNetwork(41), { encoding: 'mixed' });
  const bytes = readFileSync(onnxPath);
  onnxSha = sha256Hex(bytes);
  digest = readOnnxWeights(onnxPath).sha256;
  writeFileSync(join(tmp, 'truncated.onnx'), bytes.subarray(0, 5_000_000));
  server = createServer((req, res) => {
    if (req.url === '/lfs/googlenet-7.onnx') {
      res.writeHead(302, { location: '/media/googlenet-7.onnx' });
      res.end();
    } else if (req.url === '/media/googlenet-7.onnx') {
      res.writeHead(200, { 'content-length': bytes.length });
      res.end(bytes);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(tmp, { recursive: true, force: true });
});

const envFor = (cache: string) => ({
  ORTHOSTIM_CACHE: join(tmp, cache),
  ORTHOSTIM_WEIGHTS: '',
  ORTHOSTIM_GOOGLENET_URL: '',
  ORTHOSTIM_GOOGLENET_SHA256: '',
});

/** Exit 2 with exactly one line on stderr (no stack trace) that contains `text`. */
function expectOneLineError(r: CliResult, text: string | RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^orthostim: error: /);
  if (typeof text === 'string') expect(lines[0]).toContain(text);
  else expect(lines[0]).toMatch(text);
}

describe('orthostim model', () => {
  it('fetch -> list -> info -> verify through the cache, then catches a corrupted cache', async () => {
    const env = envFor('cache');
    const cacheDir = join(tmp, 'cache', 'googlenet');
    const before = await runCli(['model', 'list'], { env });
    expect(before.code, before.stderr).toBe(0);
    expect(before.stdout).toContain('weights: none; run `orthostim model fetch googlenet`');
    expect(before.stdout).toContain(`cache:   ${cacheDir} (empty)`);

    const fetched = await runCli(
      ['model', 'fetch', 'googlenet', '--url', `${base}/lfs/googlenet-7.onnx`, '--sha256', onnxSha],
      { env },
    );
    expect(fetched.code, fetched.stderr).toBe(0);
    expect(fetched.stdout).toContain(`converted to ${cacheDir} (weights digest ${digest})`);
    expect(fetched.stdout).toContain(`kept ${join(tmp, 'cache', 'downloads', 'googlenet-7.onnx')}`);

    const [list, info, again] = await Promise.all([
      runCli(['model', 'list'], { env }),
      runCli(['model', 'info'], { env }),
      runCli(['model', 'fetch', 'googlenet', '--url', `${base}/lfs/googlenet-7.onnx`, '--sha256', onnxSha], { env }),
    ]);
    expect(list.stdout).toContain(`weights: ${cacheDir} (cache, from the cache)`);
    expect(list.stdout).toContain('(converted)');
    expect(info.code, info.stderr).toBe(0);
    expect(info.stdout).toContain('format:  cache');
    expect(info.stdout).toContain(`sha256:  ${digest}`);
    expect(info.stdout).toContain(`source:  googlenet-7.onnx (onnx, sha256 ${onnxSha})`);
    expect(info.stdout).toMatch(/\n {2}inception_4c +14x14x512 +inception_4c\/output, mixed4c\n/);
    expect(info.stdout).toMatch(/\n {2}inception_5b\/pool +7x7x832 /);
    expect(again.stdout).toContain('already in the cache');

    const verify = await runCli(['model', 'verify'], { env });
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toContain(`weights digest: ${digest} recomputed from weights.bin, as recorded`);
    expect(verify.stdout).toMatch(/logits \[1, 1000\], all finite; top-1 class \d+/);
    expect(verify.stdout).toContain('verify: OK');

    const blob = join(cacheDir, 'weights.bin');
    const bytes = readFileSync(blob);
    bytes[123_457] = bytes[123_457]! ^ 0x40;
    writeFileSync(blob, bytes);
    const corrupt = await runCli(['model', 'verify'], { env });
    expectOneLineError(
      corrupt,
      new RegExp(`${blob}: weights digest [0-9a-f]{64} does not match ${digest} recorded in manifest.json`),
    );
  });

  it('bad inputs: one line naming the file, exit 2; the stack only with --verbose', async () => {
    const env = envFor('bad');
    const missing = join(tmp, 'missing.onnx');
    const truncated = join(tmp, 'truncated.onnx');
    const [none, gone, cut, cutVerbose, wrongSum] = await Promise.all([
      runCli(['model', 'info'], { env }),
      runCli(['model', 'verify', '--weights', missing], { env }),
      runCli(['model', 'info', '--weights', truncated], { env }),
      runCli(['model', 'info', '--weights', truncated, '--verbose'], { env }),
      runCli(['model', 'fetch', 'googlenet', '--url', `${base}/media/googlenet-7.onnx`, '--sha256', '0'.repeat(64)], {
        env,
      }),
    ]);
    expectOneLineError(none, 'no GoogLeNet weights found');
    expectOneLineError(none, 'orthostim model fetch googlenet');
    expectOneLineError(gone, `--weights ${missing}: not found`);
    expectOneLineError(cut, `${truncated}: not a readable ONNX file`);
    expect(cutVerbose.code).toBe(2);
    expect(cutVerbose.stderr).toMatch(/\n\s+at /);
    expectOneLineError(
      wrongSum,
      `${base}/media/googlenet-7.onnx: SHA-256 ${onnxSha} does not match the expected ${'0'.repeat(64)} for googlenet-7.onnx`,
    );
  });

  it('has help with examples', async () => {
    const [top, fetch] = await Promise.all([runCli(['model', '--help']), runCli(['model', 'fetch', '--help'])]);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/Examples:\n {2}orthostim model fetch googlenet/);
    expect(fetch.stdout).toContain('5725ccfd90845735ce5897faf7843c3f9b13acda3c4f3bff82cb21c9337c9de8');
    expect(fetch.stdout).toContain('Examples:');
  });
});
