/**
 * Commander options built from the settings table (pipeline/settings.ts), so `analyze` and
 * `searchlight` share one definition of every flag, its help and its default.
 */
import { Option, parseList, withRange, type Command } from '@orthostim/protocol/cli';
import type { StimulusSet } from '@orthostim/protocol';
import { ANALYSIS_OPTIONS, rangeOf, type AnalysisOptionName, type OptionSpec } from '../pipeline/settings';
import type { ExtraModelRdm } from '../rsa/compare-models';

function _parseNonNegativeInt(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} must be a whole number >= 0; got "${value}"`);
    return n;
  };
}

export function optionOf(name: AnalysisOptionName): Option {
  const spec: OptionSpec = ANALYSIS_OPTIONS[name];
  const opt = new Option(spec.flags, spec.description);
  if (spec.kind === 'number' || spec.kind === 'int') withRange(opt, rangeOf(spec));
  if (spec.choices) opt.choices(spec.choices);
  const d = spec.default;
  if (spec.kind === 'list') {
    // A given list replaces the default rather than extending it.
    const def = Array.isArray(d) ? [...d] : undefined;
    opt.argParser((value: string, previous: string[] | undefined) =>
      parseList(value, previous === def ? undefined : previous),
    );
    if (def) opt.default(def, def.join(' '));
  } else if (d !== undefined) {
    opt.default(d, String(d));
  }
  return opt;
}

export function addOptions(cmd: Command, names: readonly AnalysisOptionName[]): Command {
  for (const n of names) cmd.addOption(optionOf(n));
  return cmd;
}

/**
 * The `--model-rdm name=file` flags read into model RDMs in the set's image order, with the
 * readers of `orthostim compare` (loaded only when the flag is given).
 */
export async function readModelRdmFlags(
  specs: readonly string[] | undefined,
  set: Pick<StimulusSet, 'images'>,
): Promise<ExtraModelRdm[]> {
  if (!specs || specs.length === 0) return [];
  const { readModelRdms } = await import('@orthostim/compare');
  return readModelRdms(
    specs,
    set.images.map((i) => i.id),
  );
}
