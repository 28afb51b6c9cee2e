/**
 * GoogLeNet's layer names: the canonical names orthostim writes (short Caffe names: `conv1`,
 * `inception_4c`, branch outputs `inception_4c/3x3`), the aliases it accepts (full Caffe layer or
 * top names such as `conv1/7x7_s2` and `pool1/norm1`; the Lucid/TF names of the same network:
 * `conv2d0`, `mixed4c`, `mixed4c_3x3_bottleneck`, ...), and the order in which the forward pass
 * produces them, so a forward pass can stop after the last layer asked for.
 *
 * Every activation is after its ReLU; an inception block is the concatenation of its branches
 * (1x1, 3x3, 5x5, pool_proj) after their ReLUs. Lucid mapping of branch outputs:
 *   mixedXY_1x1 = inception_XY/1x1, mixedXY_3x3_bottleneck = inception_XY/3x3_reduce,
 *   mixedXY_3x3 = inception_XY/3x3, mixedXY_5x5_bottleneck = inception_XY/5x5_reduce,
 *   mixedXY_5x5 = inception_XY/5x5, mixedXY_pool = inception_XY/pool (the 3x3/1 max pool),
 *   mixedXY_pool_reduce = inception_XY/pool_proj.
 * `pixels` is a pseudo-layer: the network input after preprocessing (0-255, channel means subtracted;
 * RGB order, the BGR order of the weights being applied inside conv1).
 */
import { UsageError } from '@orthostim/protocol';
import { INCEPTION_SPECS } from './googlenet-spec';

export interface LayerInfo {
  /** Canonical name. */
  name: string;
  aliases: string[];
  /** Index of the forward-pass stage that produces it. */
  stage: number;
  description: string;
}

/** Forward-pass stages, in order; an inception stage also produces its branch outputs. */
export const GOOGLENET_STAGES = [
  'pixels',
  'conv1',
  'pool1',
  'norm1',
  'conv2/3x3_reduce',
  'conv2',
  'norm2',
  'pool2',
  'inception_3a',
  'inception_3b',
  'pool3',
  'inception_4a',
  'inception_4b',
  'inception_4c',
  'inception_4d',
  'inception_4e',
  'pool4',
  'inception_5a',
  'inception_5b',
  'pool5',
  'logits',
  'prob',
] as const;
export type GoogLeNetStage = (typeof GOOGLENET_STAGES)[number];

/** Branch outputs of an inception block: suffix, Lucid suffix, description. */
export const INCEPTION_BRANCHES = [
  ['1x1', '1x1', '1x1 branch'],
  ['3x3_reduce', '3x3_bottleneck', '1x1 reduction before the 3x3 conv'],
  ['3x3', '3x3', '3x3 branch'],
  ['5x5_reduce', '5x5_bottleneck', '1x1 reduction before the 5x5 conv'],
  ['5x5', '5x5', '5x5 branch'],
  ['pool', 'pool', '3x3/1 max pool before the projection'],
  ['pool_proj', 'pool_reduce', 'pool projection branch'],
] as const;

const stage = (s: GoogLeNetStage) => GOOGLENET_STAGES.indexOf(s);

function buildRegistry(): LayerInfo[] {
  const layers: LayerInfo[] = [
    {
      name: 'pixels',
      aliases: ['input', 'data'],
      stage: stage('pixels'),
      description: 'the preprocessed input image (pseudo-layer)',
    },
    { name: 'conv1', aliases: ['conv1/7x7_s2', 'conv2d0'], stage: stage('conv1'), description: '7x7/2 conv' },
    { name: 'pool1', aliases: ['pool1/3x3_s2', 'maxpool0'], stage: stage('pool1'), description: '3x3/2 max pool' },
    { name: 'norm1', aliases: ['pool1/norm1', 'localresponsenorm0'], stage: stage('norm1'), description: 'LRN' },
    { name: 'conv2/3x3_reduce', aliases: ['conv2d1'], stage: stage('conv2/3x3_reduce'), description: '1x1 conv' },
    { name: 'conv2', aliases: ['conv2/3x3', 'conv2d2'], stage: stage('conv2'), description: '3x3 conv' },
    { name: 'norm2', aliases: ['conv2/norm2', 'localresponsenorm1'], stage: stage('norm2'), description: 'LRN' },
    { name: 'pool2', aliases: ['pool2/3x3_s2', 'maxpool1'], stage: stage('pool2'), description: '3x3/2 max pool' },
    { name: 'pool3', aliases: ['pool3/3x3_s2', 'maxpool4'], stage: stage('pool3'), description: '3x3/2 max pool' },
    { name: 'pool4', aliases: ['pool4/3x3_s2', 'maxpool10'], stage: stage('pool4'), description: '3x3/2 max pool' },
    {
      name: 'pool5',
      aliases: ['pool5/7x7_s1', 'avgpool0'],
      stage: stage('pool5'),
      description: 'global average pool, [n, 1024]',
    },
    {
      name: 'logits',
      aliases: ['loss3/classifier'],
      stage: stage('logits'),
      description: 'classifier logits, [n, 1000]',
    },
    {
      name: 'prob',
      aliases: ['softmax', 'softmax2'],
      stage: stage('prob'),
      description: 'softmax of the logits, [n, 1000]',
    },
  ];
  for (const block of INCEPTION_SPECS) {
    const lucid = block.name.replace('inception_', 'mixed');
    const s = stage(block.name as GoogLeNetStage);
    layers.push({
      name: block.name,
      aliases: [`${block.name}/output`, lucid],
      stage: s,
      description: 'inception block output (concatenation)',
    });
    for (const [suffix, lucidSuffix, description] of INCEPTION_BRANCHES) {
      layers.push({ name: `${block.name}/${suffix}`, aliases: [`${lucid}_${lucidSuffix}`], stage: s, description });
    }
  }
  return layers.sort((a, b) => a.stage - b.stage);
}

/** All layers, in forward order (within an inception stage: block output, then branches). */
export const GOOGLENET_LAYERS: readonly LayerInfo[] = buildRegistry();

const BY_NAME = new Map<string, LayerInfo>();
for (const l of GOOGLENET_LAYERS) for (const n of [l.name, ...l.aliases]) BY_NAME.set(n.toLowerCase(), l);

/** The layers used for RDM work when none are given: the 11 main stages. */
export const DEFAULT_RDM_LAYERS: readonly string[] = [
  'conv1',
  'conv2',
  'inception_3a',
  'inception_3b',
  'inception_4a',
  'inception_4b',
  'inception_4c',
  'inception_4d',
  'inception_4e',
  'inception_5a',
  'inception_5b',
];

export function getLayerInfo(name: string): LayerInfo {
  const info = BY_NAME.get(name.trim().toLowerCase());
  if (info) return info;
  const suggestion = closestName(name.trim().toLowerCase(), [...BY_NAME.keys()]);
  const main = ['pixels', ...DEFAULT_RDM_LAYERS, 'pool5', 'logits', 'prob'];
  throw new UsageError(
    `unknown layer ${JSON.stringify(name)}${suggestion ? ` (did you mean ${JSON.stringify(BY_NAME.get(suggestion)!.name)}?)` : ''}; ` +
      `valid names: ${main.join(', ')}, the branches <block>/{${INCEPTION_BRANCHES.map((b) => b[0]).join(',')}}, ` +
      `and the Lucid aliases (conv2d0, mixed3a ... mixed5b); see \`orthostim model info\``,
  );
}

/** The canonical name of a layer given by its canonical name or any alias (case-insensitive). */
export function resolveLayerName(name: string): string {
  return getLayerInfo(name).name;
}

/** Levenshtein distance, for "did you mean" suggestions. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

function closestName(name: string, candidates: string[]): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(name, c);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== null && bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : null;
}
