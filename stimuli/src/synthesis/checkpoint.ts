/**
 * Checkpoints of a synthesis run, in `<out>/checkpoint/`: `checkpoint.json` (settings, step,
 * history, Adam's step count, the weights digest, and the SHA-256 of each binary) and the float32
 * arrays `params-<step>.f32`, `adam-m-<step>.f32`, `adam-v-<step>.f32` (little-endian, exact
 * bytes). Binaries are written first under step-numbered names, the JSON last (atomically), then
 * older binaries are removed: a checkpoint interrupted while being written leaves the previous one
 * intact. Random draws are indexed by seed and step (seeds.ts), so no generator state is needed.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '@orthostim/protocol';
import { markOutputDir, sha256Hex, writeFileAtomic } from '@orthostim/protocol/node';
import { classifyWeightsPath, resolveWeights, type ResolvedWeights } from '../models/resolve-weights';
import type { SynthesisSettings } from './settings';
import type { HistoryEntry, SynthesisState } from './synthesize';

export const CHECKPOINT_DIR = 'checkpoint';
export const CHECKPOINT_FILE = 'checkpoint.json';
const CHECKPOINT_SCHEMA = 'orthostim.synthesis-checkpoint/1';

export interface CheckpointMeta {
  schema: typeof CHECKPOINT_SCHEMA;
  settings: SynthesisSettings;
  step: number;
  adamT: number;
  weightsSha256: string;
  /** Where the run found its weights (absent in checkpoints of older versions): `--resume` looks there again. */
  weights?: { path: string; kind: ResolvedWeights['kind'] };
  /** The command line that started the run. */
  command: string;
  history: HistoryEntry[];
  files: Record<'params' | 'adamM' | 'adamV', { file: string; sha256: string }>;
  /** Layer similarity at the start (kept for the report). */
  before?: unknown;
}

function bytesOf(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

export function writeCheckpoint(
  outDir: string,
  state: SynthesisState,
  meta: Omit<CheckpointMeta, 'schema' | 'step' | 'adamT' | 'history' | 'files'>,
): void {
  markOutputDir(outDir);
  const dir = join(outDir, CHECKPOINT_DIR);
  const tag = String(state.step).padStart(6, '0');
  const arrays = { params: state.params, adamM: state.adam.m, adamV: state.adam.v };
  const names = { params: `params-${tag}.f32`, adamM: `adam-m-${tag}.f32`, adamV: `adam-v-${tag}.f32` };
  const files = {} as CheckpointMeta['files'];
  for (const key of ['params', 'adamM', 'adamV'] as const) {
    const bytes = bytesOf(arrays[key]);
    writeFileAtomic(join(dir, names[key]), bytes);
    files[key] = { file: names[key], sha256: sha256Hex(bytes) };
  }
  const full: CheckpointMeta = {
    schema: CHECKPOINT_SCHEMA,
    ...meta,
    step: state.step,
    adamT: state.adam.t,
    history: state.history,
    files,
  };
  writeFileAtomic(join(dir, CHECKPOINT_FILE), `${JSON.stringify(full)}\n`);
  const keep = new Set([...Object.values(names), CHECKPOINT_FILE]);
  for (const f of readdirSync(dir)) if (!keep.has(f) && !f.startsWith('.')) rmSync(join(dir, f), { force: true });
}

/** `dir` is the run's output folder (holding checkpoint/) or the checkpoint folder itself. */
export function readCheckpoint(dir: string): { meta: CheckpointMeta; state: SynthesisState; checkpointDir: string } {
  const cdir = existsSync(join(dir, CHECKPOINT_DIR, CHECKPOINT_FILE)) ? join(dir, CHECKPOINT_DIR) : dir;
  const path = join(cdir, CHECKPOINT_FILE);
  if (!existsSync(path)) {
    throw new InputError(
      `--resume ${dir}: no ${CHECKPOINT_DIR}/${CHECKPOINT_FILE} there (expected the --out folder of an interrupted \`orthostim synthesize\` run)`,
    );
  }
  let meta: CheckpointMeta;
  try {
    meta = JSON.parse(readFileSync(path, 'utf8')) as CheckpointMeta;
  } catch (err) {
    throw new InputError(`${path}: not valid JSON (${(err as Error).message})`);
  }
  if (meta.schema !== CHECKPOINT_SCHEMA)
    throw new InputError(`${path}: field schema: expected "${CHECKPOINT_SCHEMA}", got ${JSON.stringify(meta.schema)}`);
  const load = (key: keyof CheckpointMeta['files']): Float32Array => {
    const f = meta.files[key];
    const p = join(cdir, f.file);
    if (!existsSync(p)) throw new InputError(`${path}: files.${key}: ${f.file} is missing`);
    const bytes = readFileSync(p);
    const h = sha256Hex(bytes);
    if (h !== f.sha256)
      throw new InputError(`${p}: SHA-256 ${h} does not match the checkpoint's ${f.sha256} (file damaged)`);
    const out = new Float32Array(bytes.byteLength / 4);
    new Uint8Array(out.buffer).set(bytes);
    return out;
  };
  const params = load('params');
  const m = load('adamM');
  const v = load('adamV');
  if (m.length !== params.length || v.length !== params.length)
    throw new InputError(`${path}: parameter and Adam state sizes differ (${params.length}, ${m.length}, ${v.length})`);
  return {
    meta,
    state: { step: meta.step, params, adam: { t: meta.adamT, m, v }, history: meta.history },
    checkpointDir: cdir,
  };
}

/**
 * The weights a resumed run uses without --weights: those the checkpoint says the run found, if
 * they are still there (their digest is compared with the checkpoint's once loaded); a checkpoint
 * of an older version, which did not record them, looks where a new run would.
 */
export function checkpointWeights(meta: CheckpointMeta, dir: string): ResolvedWeights {
  if (!meta.weights) return resolveWeights();
  if (!existsSync(meta.weights.path))
    throw new InputError(
      `--resume ${dir}: the run's weights ${meta.weights.path} are gone; pass --weights with the same weights (SHA-256 ${meta.weightsSha256})`,
    );
  return classifyWeightsPath(meta.weights.path, 'checkpoint');
}
