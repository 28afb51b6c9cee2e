/**
 * `orthostim rdms` as a whole command on N images at 224 px (default 1,000; ORTHOSTIM_BENCH_RDMS_IMAGES),
 * default engine (onnxruntime, all cores) and --engine tfjs, next to a PyTorch forward pass of the
 * same network at batch 16 on as many threads (bench/reference/googlenet_torch.py, Debian's
 * python3-torch; skipped with a note when absent), in the same run: images per second and the ratio.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { createRng } from '@orthostim/rdm';
import {
  type Benchmark,
  type BenchResult,
  describeLoad,
  GOOGLENET_WEIGHTS,
  REPO_ROOT,
  requireShared,
} from '@orthostim/test';

const SIZE = 224;
const TORCH_PYTHON = '/usr/bin/python3';

async function writeImages(dir: string, n: number): Promise<void> {
  const rng = createRng(3);
  for (let i = 0; i < n; i++) {
    // Smooth random colour fields (compress like photos, unlike pixel noise).
    const small = Buffer.from(Array.from({ length: 8 * 8 * 3 }, () => Math.floor(rng() * 256)));
    await sharp(small, { raw: { width: 8, height: 8, channels: 3 } })
      .resize(256, 256, { kernel: 'cubic' })
      .png()
      .toFile(join(dir, `img-${String(i).padStart(4, '0')}.png`));
  }
}

function timeCommand(args: string[]): number {
  const start = performance.now();
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'orthostim.js'), ...args], {
    env: { ...process.env, ORTHOSTIM_PROGRESS: '0' },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`orthostim ${args.join(' ')} failed: ${r.stderr}`);
  return (performance.now() - start) / 1000;
}

function torchImagesPerSecond(weights: string, n: number): number | null {
  const probe = spawnSync(TORCH_PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) return null;
  const script = join(REPO_ROOT, 'stimuli', 'bench', 'reference', 'googlenet_torch.py');
  const args = [script, weights, '--images', String(n), '--batch', '16', '--size', String(SIZE)];
  const r = spawnSync(TORCH_PYTHON, [...args, '--threads', String(availableParallelism())], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`PyTorch reference failed: ${r.stderr}`);
  return (JSON.parse(r.stdout.trim().split('\n').pop()!) as { images_per_s: number }).images_per_s;
}

export const benchmarks: Benchmark[] = [
  {
    name: 'rdms',
    description: `orthostim rdms, whole command, N images at ${SIZE} px (onnxruntime and tfjs engines) vs a PyTorch forward at batch 16`,
    async run(): Promise<BenchResult[]> {
      const n = Number(process.env.ORTHOSTIM_BENCH_RDMS_IMAGES ?? 1000);
      const weights = requireShared(GOOGLENET_WEIGHTS);
      const tmp = mkdtempSync(join(tmpdir(), 'orthostim-bench-rdms-'));
      try {
        const dir = join(tmp, 'photos');
        mkdirSync(dir);
        await writeImages(dir, n);
        const common = ['rdms', dir, '--weights', weights, '--size', String(SIZE)];
        const ortSeconds = timeCommand([...common, '--out', join(tmp, 'ort')]);
        const tfjsN = Math.min(n, Number(process.env.ORTHOSTIM_BENCH_RDMS_TFJS_IMAGES ?? 160));
        const tfjsDir = join(tmp, 'photos-tfjs');
        mkdirSync(tfjsDir);
        await writeImages(tfjsDir, tfjsN);
        const tfjsSeconds = timeCommand([
          'rdms',
          tfjsDir,
          '--weights',
          weights,
          '--size',
          String(SIZE),
          '--engine',
          'tfjs',
          '--out',
          join(tmp, 'tfjs'),
        ]);
        const torch = torchImagesPerSecond(weights, n);
        const ours = n / ortSeconds;
        const results: BenchResult[] = [
          {
            metric: `rdms ${n} images, onnxruntime`,
            value: ours,
            unit: 'images/s',
            note: `${ortSeconds.toFixed(1)} s whole command; ${describeLoad()}`,
          },
          {
            metric: `rdms ${tfjsN} images, --engine tfjs`,
            value: tfjsN / tfjsSeconds,
            unit: 'images/s',
            note: `${tfjsSeconds.toFixed(1)} s`,
          },
        ];
        if (torch === null)
          results.push({
            metric: 'PyTorch forward, batch 16',
            value: Number.NaN,
            unit: 'images/s',
            note: `skipped: no torch for ${TORCH_PYTHON} (apt-get install python3-torch)`,
          });
        else {
          results.push({
            metric: `PyTorch forward, batch 16, ${availableParallelism()} threads`,
            value: torch,
            unit: 'images/s',
          });
          results.push({
            metric: 'rdms (onnxruntime) / PyTorch',
            value: ours / torch,
            unit: 'ratio',
            note: 'target >= 0.8',
          });
        }
        return results;
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    },
  },
];
