import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '@orthostim/protocol';
import { orthostimCacheDir } from './cache-location';
import { classifyWeightsPath, resolveWeights } from './resolve-weights';

let tmp: string;
/** Folders shaped like each kind (only the marker files matter to resolution). */
const place = (rel: string, content = '') => {
  const p = join(tmp, rel);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, content);
  return p;
};
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'orthostim-resolve-'));
  place('raw/conv1/7x7_s2_filter.bin');
  place('model-dir/weights/conv1/7x7_s2_filter.bin');
  place('cache/manifest.json', '{}');
  place('cache-root/googlenet/manifest.json', '{}');
  place('tfjs/model.json', '{}');
  place('one-onnx/googlenet-7.onnx');
  place('two-onnx/a.onnx');
  place('two-onnx/b.onnx');
  place('empty/readme.txt');
  place('net.onnx');
  place('notes.txt');
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('classifyWeightsPath', () => {
  it('tells each kind from the files present', () => {
    const kind = (rel: string) => {
      const r = classifyWeightsPath(join(tmp, rel), 'flag');
      return [r.kind, r.path];
    };
    expect(kind('raw')).toEqual(['raw', join(tmp, 'raw')]);
    expect(kind('model-dir')).toEqual(['raw', join(tmp, 'model-dir/weights')]);
    expect(kind('cache')).toEqual(['cache', join(tmp, 'cache')]);
    expect(kind('cache/manifest.json')).toEqual(['cache', join(tmp, 'cache')]);
    expect(kind('cache-root')).toEqual(['cache', join(tmp, 'cache-root/googlenet')]);
    expect(kind('tfjs')).toEqual(['tfjs', join(tmp, 'tfjs/model.json')]);
    expect(kind('tfjs/model.json')).toEqual(['tfjs', join(tmp, 'tfjs/model.json')]);
    expect(kind('one-onnx')).toEqual(['onnx', join(tmp, 'one-onnx/googlenet-7.onnx')]);
    expect(kind('net.onnx')).toEqual(['onnx', join(tmp, 'net.onnx')]);
  });

  it('refuses what holds no weights, naming the path and where it came from', () => {
    expect(() => classifyWeightsPath(join(tmp, 'nope'), 'flag')).toThrow(
      new RegExp(`^--weights ${tmp}/nope: not found; expected a raw per-layer weights folder`),
    );
    expect(() => classifyWeightsPath(join(tmp, 'empty'), 'env')).toThrow(
      new RegExp(`^\\$ORTHOSTIM_WEIGHTS ${tmp}/empty: folder holds no weights;`),
    );
    expect(() => classifyWeightsPath(join(tmp, 'two-onnx'), 'flag')).toThrow(
      /several \.onnx files: a\.onnx, b\.onnx; name one/,
    );
    expect(() => classifyWeightsPath(join(tmp, 'notes.txt'), 'flag')).toThrow(/notes\.txt: not a weights file/);
  });
});

describe('resolveWeights', () => {
  it('takes --weights first, then $ORTHOSTIM_WEIGHTS, then the cache', () => {
    const env = { ORTHOSTIM_WEIGHTS: join(tmp, 'raw'), ORTHOSTIM_CACHE: join(tmp, 'cache-root') };
    expect(resolveWeights(join(tmp, 'net.onnx'), env)).toEqual({
      kind: 'onnx',
      path: join(tmp, 'net.onnx'),
      origin: 'flag',
    });
    expect(resolveWeights(undefined, env)).toEqual({ kind: 'raw', path: join(tmp, 'raw'), origin: 'env' });
    expect(resolveWeights(undefined, { ORTHOSTIM_CACHE: join(tmp, 'cache-root') })).toEqual({
      kind: 'cache',
      path: join(tmp, 'cache-root/googlenet'),
      origin: 'cache',
    });
  });

  it('says how to get weights when there are none', () => {
    const env = { ORTHOSTIM_CACHE: join(tmp, 'empty-cache') };
    let err: unknown;
    try {
      resolveWeights(undefined, env);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toBe(
      `no GoogLeNet weights found (no --weights, no $ORTHOSTIM_WEIGHTS, nothing in the cache ${join(tmp, 'empty-cache', 'googlenet')}); run \`orthostim model fetch googlenet\` (downloads the ONNX model zoo's googlenet-7.onnx into the cache) or pass --weights ../shared/models/bvlc-googlenet/weights`,
    );
  });
});

describe('orthostimCacheDir', () => {
  it('prefers $ORTHOSTIM_CACHE, then $XDG_CACHE_HOME/orthostim, then ~/.cache/orthostim', () => {
    expect(orthostimCacheDir({ ORTHOSTIM_CACHE: '/a/b', XDG_CACHE_HOME: '/x' })).toBe('/a/b');
    expect(orthostimCacheDir({ XDG_CACHE_HOME: '/x' })).toBe('/x/orthostim');
    expect(orthostimCacheDir({})).toBe(join(homedir(), '.cache', 'orthostim'));
  });
});
