/**
 * The group level's inputs: each participant's z maps (found through their index.json), checked to
 * come from one stimulus set, one space and the same layers and methods.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '@orthostim/protocol';
import { methodOfFields, type ModelMethod } from '../rsa/compare-models';
import { readOutputIndex, type OutputIndex } from './output-index';
import { PROVENANCE_FILE } from './provenance';

export interface ParticipantOutputs {
  label: string;
  dir: string;
  index: OutputIndex;
  /** `layer\tmethod` -> z map path (model RDMs: `model:<name>\tmethod`). */
  zMaps: Map<string, string>;
  space: string | undefined;
  stimulusSha: string | undefined;
}

export interface GroupInputs {
  participants: ParticipantOutputs[];
  /** One test per layer (or model RDM: `kind` 'model') and method, in the first participant's index order. */
  tests: GroupTestKey[];
  /** The network's layers (model RDMs are tested too, but take no part in winner-take-all and Dice). */
  layers: string[];
  methods: ModelMethod[];
  space: string | undefined;
  /** Set when the maps are not in one standard space (native-space BOLD). */
  spaceWarning?: string;
}

export interface GroupTestKey {
  /** The layer, or the model RDM's name when `kind` is 'model'. */
  layer: string;
  kind?: 'model';
  method: ModelMethod;
}

/** Keys of user-given model RDMs' maps, kept apart from the layers (no winner-take-all, no Dice). */
const MODEL_PREFIX = 'model:';

/** The z-map key of a test. */
export const testMapKey = (t: GroupTestKey): string =>
  zMapKey(t.kind ? `${MODEL_PREFIX}${t.layer}` : t.layer, t.method);

/**
 * A warning when the maps are not in one standard space: native-space maps (raw BOLD, or no
 * space entity) of different people share a grid only by accident, so a voxel is not one place.
 */
export function spaceWarningOf(space: string | undefined): string | undefined {
  if (space && space !== 'native') return undefined;
  return `the participants' maps are in native space (${space ? 'space-native' : 'no space entity'}, no template): a voxel is not the same brain location in different participants, so the group test compares unaligned maps; analyse preprocessed BOLD in a standard space (--derivatives with --space MNI152NLin2009cAsym)`;
}

/** The key of a participant's z map of one layer and method. */
export const zMapKey = (layer: string, method: string): string => `${layer}\t${method}`;

function participantLabels(outputDir: string, requested: string[] | undefined): string[] {
  if (!existsSync(outputDir))
    throw new InputError(`output_dir ${outputDir} does not exist; run the participant level first`);
  const present = readdirSync(outputDir)
    .filter(
      (f) =>
        /^sub-[A-Za-z0-9]+$/.test(f) &&
        statSync(join(outputDir, f)).isDirectory() &&
        existsSync(join(outputDir, f, 'index.json')),
    )
    .map((f) => f.slice(4))
    .sort();
  const labels = requested ?? present;
  const missing = labels.filter((l) => !present.includes(l));
  if (missing.length > 0) {
    throw new InputError(
      `${outputDir}: no participant-level outputs for sub-${missing.join(', sub-')}; run \`orthostim analyze ... participant --participant-label ${missing.join(' ')}\` first`,
    );
  }
  if (labels.length < 2)
    throw new InputError(
      `${outputDir}: the group level needs at least 2 participants with outputs; found ${labels.length} (${labels.join(', ') || 'none'})`,
    );
  return labels;
}

function stimulusSetSha(dir: string): string | undefined {
  try {
    const prov = JSON.parse(readFileSync(join(dir, PROVENANCE_FILE), 'utf8')) as {
      inputs?: { stimulusSet?: { sha256?: string } };
    };
    return prov.inputs?.stimulusSet?.sha256;
  } catch {
    return undefined;
  }
}

function readParticipant(outputDir: string, label: string): ParticipantOutputs {
  const dir = join(outputDir, `sub-${label}`);
  const index = readOutputIndex(dir);
  const zMaps = new Map<string, string>();
  for (const f of index.files) {
    const name = f.layer ?? (f.model ? `${MODEL_PREFIX}${f.model}` : undefined);
    const method = methodOfFields(f);
    if (f.stat === 'z' && name && method) zMaps.set(zMapKey(name, method), join(dir, f.path));
  }
  const space = index.files.find((f) => f.stat === 'z')?.space;
  return { label, dir, index, zMaps, space, stimulusSha: stimulusSetSha(dir) };
}

function checkOneStudy(parts: ParticipantOutputs[]): void {
  const shas = new Set(parts.map((p) => p.stimulusSha));
  if (shas.size > 1)
    throw new InputError(
      `participants were analysed with different stimulus sets (${[...shas].map((s) => (s ?? 'unknown').slice(0, 12)).join(', ')}); rerun them with one --stimuli`,
    );
  const spaces = new Set(parts.map((p) => p.space));
  if (spaces.size > 1)
    throw new InputError(
      `participants' maps are in different spaces (${[...spaces].join(', ')}); the group level needs maps in one common space (e.g. --derivatives with --space MNI152NLin2009cAsym)`,
    );
}

/** The z-map keys every participant has: the same as the first participant's, or an error. */
function commonMapKeys(parts: ParticipantOutputs[]): string[] {
  const first = parts[0]!;
  const keys = [...first.zMaps.keys()];
  if (keys.length === 0) throw new InputError(`${first.dir}/index.json lists no z maps`);
  for (const p of parts) {
    const lacking = keys.filter((k) => !p.zMaps.has(k));
    if (lacking.length > 0 || p.zMaps.size !== keys.length) {
      throw new InputError(
        `sub-${p.label} was analysed with other layers or methods than sub-${first.label} (${lacking.length ? `lacks ${lacking.map((k) => k.replace('\t', ' ')).join(', ')}` : 'has more maps'}); rerun the participant level with the same settings`,
      );
    }
  }
  return keys;
}

/** Find the participants' outputs under `outputDir` and check that they can be tested together. */
export function readGroupInputs(outputDir: string, requested: string[] | undefined): GroupInputs {
  const participants = participantLabels(outputDir, requested).map((label) => readParticipant(outputDir, label));
  checkOneStudy(participants);
  const tests = commonMapKeys(participants).map((k): GroupTestKey => {
    const [name, method] = k.split('\t') as [string, ModelMethod];
    return name.startsWith(MODEL_PREFIX)
      ? { layer: name.slice(MODEL_PREFIX.length), method, kind: 'model' }
      : { layer: name, method };
  });
  const space = participants[0]!.space;
  const spaceWarning = spaceWarningOf(space);
  return {
    participants,
    tests,
    layers: [...new Set(tests.filter((t) => !t.kind).map((t) => t.layer))],
    methods: [...new Set(tests.filter((t) => !t.kind).map((t) => t.method))],
    space,
    ...(spaceWarning ? { spaceWarning } : {}),
  };
}
