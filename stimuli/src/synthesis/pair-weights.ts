/**
 * Per-pair weights of the objective from a JSON file (`--pair-weights`):
 *   { "default": 1, "pairs": [ { "layers": ["conv1", "inception_5b"], "weight": 2 }, ... ] }
 * Layer names may be aliases; a pair may be given in either order. The result is one weight per
 * layer pair (a, b), a < b, in the order of the layer list.
 */
import { readFileSync } from 'node:fs';
import { InputError, UsageError } from '@orthostim/protocol';
import { condensedIndex, pairCount } from '@orthostim/rdm';

export function parsePairWeights(
  json: unknown,
  layers: readonly string[],
  resolveLayer: (name: string) => string,
  source: string,
): number[] {
  const fail = (field: string, msg: string) => new InputError(`${source}: field ${field}: ${msg}`);
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw fail('(top level)', 'expected an object { "default": number, "pairs": [...] }');
  const obj = json as Record<string, unknown>;
  for (const key of Object.keys(obj))
    if (key !== 'default' && key !== 'pairs') throw fail(key, 'unknown field (allowed: default, pairs)');
  const def = obj.default ?? 1;
  const valid = (w: unknown): w is number => typeof w === 'number' && Number.isFinite(w) && w >= 0;
  if (!valid(def)) throw fail('default', `expected a number >= 0; got ${JSON.stringify(def)}`);
  const L = layers.length;
  const weights = new Array<number>(pairCount(L)).fill(def);
  const pairs = obj.pairs ?? [];
  if (!Array.isArray(pairs)) throw fail('pairs', 'expected an array of { "layers": [a, b], "weight": w }');
  pairs.forEach((p, i) => {
    const entry = p as { layers?: unknown; weight?: unknown };
    if (
      !Array.isArray(entry?.layers) ||
      entry.layers.length !== 2 ||
      !entry.layers.every((l) => typeof l === 'string')
    ) {
      throw fail(`pairs.${i}.layers`, `expected two layer names; got ${JSON.stringify(entry?.layers)}`);
    }
    if (!valid(entry.weight))
      throw fail(`pairs.${i}.weight`, `expected a number >= 0; got ${JSON.stringify(entry.weight)}`);
    const idx = (entry.layers as string[]).map((name) => {
      let canonical: string;
      try {
        canonical = resolveLayer(name);
      } catch (err) {
        throw fail(`pairs.${i}.layers`, (err as Error).message);
      }
      const k = layers.indexOf(canonical);
      if (k < 0)
        throw fail(
          `pairs.${i}.layers`,
          `${JSON.stringify(name)} is not among the synthesis layers (${layers.join(', ')})`,
        );
      return k;
    });
    if (idx[0] === idx[1])
      throw fail(`pairs.${i}.layers`, `a pair needs two different layers; got ${JSON.stringify(entry.layers)}`);
    weights[condensedIndex(idx[0]!, idx[1]!, L)] = entry.weight;
  });
  if (!weights.some((w) => w > 0)) throw fail('pairs', 'every pair has weight 0; at least one must be positive');
  return weights;
}

export function readPairWeights(
  path: string,
  layers: readonly string[],
  resolveLayer: (name: string) => string,
): number[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(
      `--pair-weights ${path}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${path}: not valid JSON (${(err as Error).message})`);
  }
  return parsePairWeights(json, layers, resolveLayer, path);
}
