/**
 * `orthostim synthesize` as a user runs it (the real bin in a child process), at a small size with
 * the BVLC weights: outputs and their consistency with `orthostim rdms`, Ctrl-C + --resume giving
 * the uninterrupted result byte for byte, and one-line errors for bad arguments.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readStimulusSet } from '@orthostim/protocol/node';
import { GOOGLENET_WEIGHTS, hasShared, REPO_ROOT, requireShared, runCli, type CliResult } from '@orthostim/test';

const SMALL = [
  '--n',
  '4',
  '--size',
  '64',
  '--steps',
  '6',
  '--layers',
  'conv1,inception_3a,mixed4c,inception_5b',
  '--polish',
  '0.5',
  '--seed',
  '3',
];

describe.skipIf(!hasShared(GOOGLENET_WEIGHTS))('orthostim synthesize (BVLC weights, 4 images at 64 px)', () => {
  let tmp: string;
  let weights: string;
  let full: CliResult;
  const fullDir = () => join(tmp, 'full');

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'orthostim-synth-cli-'));
    weights = requireShared(GOOGLENET_WEIGHTS);
    full = await runCli([
      'synthesize',
      '--out',
      fullDir(),
      ...SMALL,
      '--weights',
      weights,
      '--checkpoint-every',
      '3',
      '--natural',
      requireShared('data/photos/natural16'),
    ]);
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('writes images, a valid stimulus set with a synthesis block, figures and a self-contained report', () => {
    expect(full.stderr).not.toMatch(/internal error/);
    expect(full.code).toBe(0);
    expect(full.stdout).toMatch(/mean \|Pearson r\| between layers' RDMs: [\d.]+ at the start -> [\d.]+/);
    const { set } = readStimulusSet(fullDir());
    expect(set.images.map((i) => i.file)).toEqual([
      'images/stim-01.png',
      'images/stim-02.png',
      'images/stim-03.png',
      'images/stim-04.png',
    ]);
    expect(set.layers).toEqual(['conv1', 'inception_3a', 'inception_4c', 'inception_5b']);
    expect(set.model.inputSize).toBe(64);
    const syn = set.synthesis as {
      lossHistory: unknown[];
      settings: { seed: number; steps: number };
      layerSimilarity: { before: { pearson: number[][] }; natural?: unknown };
    };
    expect(syn.lossHistory).toHaveLength(6);
    expect(syn.settings.seed).toBe(3);
    expect(syn.layerSimilarity.before.pearson).toHaveLength(4);
    expect(syn.layerSimilarity.natural).toBeDefined();
    expect(existsSync(join(fullDir(), 'checkpoint'))).toBe(false);
    const html = readFileSync(join(fullDir(), 'report.html'), 'utf8');
    for (const id of [
      'images',
      'loss',
      'similarity-before-pearson',
      'similarity-after-spearman',
      'similarity-natural-pearson',
      'rdms',
    ]) {
      expect(html).toContain(`id="${id}"`);
      expect(existsSync(join(fullDir(), 'figures', `${id}.png`))).toBe(true);
    }
    expect(html).not.toMatch(/src="(?!data:)/); // nothing loaded from outside the file
  });

  it('stores the RDMs that `orthostim rdms` computes from the written PNG files', async () => {
    const again = await runCli([
      'rdms',
      join(fullDir(), 'images'),
      '--out',
      join(tmp, 'rdms'),
      '--size',
      '64',
      '--layers',
      'conv1,inception_3a,inception_4c,inception_5b',
      '--weights',
      weights,
    ]);
    expect(again.code).toBe(0);
    const storedSet = readStimulusSet(fullDir());
    const recomputedSet = readStimulusSet(join(tmp, 'rdms'));
    const [stored, recomputed] = [storedSet.set, recomputedSet.set];
    for (const [l, layer] of stored.layers.entries()) {
      const a = storedSet.rdms[l]!;
      const b = recomputedSet.rdms[recomputed.layers.indexOf(layer)]!;
      expect(b).toHaveLength(6);
      a.forEach((v, k) => expect(Math.abs(v! - b[k]!)).toBeLessThan(1e-4));
    }
    // Same pixels: the PNG files were read back unchanged.
    expect(recomputed.images.map((i) => i.sha256)).toEqual(stored.images.map((i) => i.sha256));
  });

  it('stops cleanly on Ctrl-C and --resume gives the uninterrupted images byte for byte', async () => {
    const out = join(tmp, 'interrupted');
    const child = spawn(
      process.execPath,
      [
        join(REPO_ROOT, 'bin', 'orthostim.js'),
        'synthesize',
        '--out',
        out,
        ...SMALL,
        '--weights',
        weights,
        '--json-progress',
      ],
      {
        env: { ...process.env, ORTHOSTIM_PROGRESS: '0' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (!sent && stdout.includes('"step":1,')) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(code).toBe(130);
    expect(stderr).toContain(`orthostim synthesize --resume ${out}`);
    expect(existsSync(join(out, 'checkpoint', 'checkpoint.json'))).toBe(true);
    expect(existsSync(join(out, 'stimulus-set.json'))).toBe(false);
    const steps = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { step: number });
    expect(steps[steps.length - 1]!.step).toBeLessThan(6);

    // No --weights, no $ORTHOSTIM_WEIGHTS, an empty cache: the checkpoint says where the run found them.
    const resumed = await runCli(['synthesize', '--resume', out], {
      env: { ORTHOSTIM_WEIGHTS: '', ORTHOSTIM_CACHE: join(tmp, 'empty-cache') },
    });
    expect(resumed.stderr).not.toMatch(/no GoogLeNet weights found/);
    expect(resumed.code).toBe(0);
    for (let i = 1; i <= 4; i++) {
      const a = readFileSync(join(fullDir(), 'images', `stim-0${i}.png`));
      const b = readFileSync(join(out, 'images', `stim-0${i}.png`));
      expect(b.equals(a)).toBe(true);
    }
  });

  it.each([
    [['--n', '2'], /--n must be a whole number from 3 to 10000; got "2"/],
    [['--n', '100000'], /--n must be a whole number from 3 to 10000; got "100000"/],
    [
      ['--n', '5000'],
      /--n 5000 at --size 224 .*(more than a backend can allocate|needs at least [\d.]+ GiB of memory)/,
    ],
    [['--size', '100000'], /--size must be a whole number from 32 to 2048; got "100000"/],
    [['--seed', '1.5'], /--seed must be a whole number from 0 to 4294967295; got "1.5"/],
    [['--workers', '1000'], /--workers must be a whole number from 1 to \d+ \(4 x the \d+ cores?\); got "1000"/],
    [['--loss', 'cubic'], /--loss.*cubic/],
    [['--layers', 'conv1'], /at least 2/],
    [['--layers', 'conv1,mixed9z'], /unknown layer "mixed9z"/],
    [['--init', join(tmpdir(), 'no-such-folder-orthostim')], /does not exist/],
    [['--lr', '-1'], /--lr must be a number/],
  ])('rejects %j with a one-line error', async (args, pattern) => {
    const r = await runCli(['synthesize', '--out', join(tmp, 'bad'), '--weights', weights, ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(pattern);
    expect(
      r.stderr
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('orthostim:')),
    ).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(tmp, 'bad'))).toBe(false);
  });

  it('refuses --resume with run settings, and a folder without a checkpoint', async () => {
    const a = await runCli(['synthesize', '--resume', fullDir(), '--lr', '0.1']);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/drop --lr/);
    const b = await runCli(['synthesize', '--resume', fullDir(), '--weights', weights]);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/no checkpoint\/checkpoint.json/);
  });
});
