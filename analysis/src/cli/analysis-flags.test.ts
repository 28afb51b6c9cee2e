import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeRange } from '@orthostim/protocol/cli';
import { ANALYSIS_OPTIONS, rangeOf, type OptionSpec } from '../pipeline/settings';
import { optionOf } from './analysis-flags';

const DOC = readFileSync(new URL('../../../docs/analysis-pipeline.md', import.meta.url), 'utf8');

describe('analysis options table', () => {
  it('docs/analysis-pipeline.md lists every flag with its default and every numeric one with its range', () => {
    for (const [name, spec] of Object.entries(ANALYSIS_OPTIONS) as [string, OptionSpec][]) {
      const flag = spec.flags.split(' ')[0]!;
      const row = DOC.split('\n').find((l) => l.startsWith(`| \`${flag}`));
      expect(row, `${name}: ${flag} is not in the options table of docs/analysis-pipeline.md`).toBeDefined();
      if (spec.kind === 'number' || spec.kind === 'int') {
        const range = spec.maxReason ? 'whole number from 1 to 4 x the cores' : describeRange(rangeOf(spec));
        expect(row, `${flag}: range ${range}`).toContain(range);
      }
      if (spec.default !== undefined) {
        const d = Array.isArray(spec.default) ? spec.default.join(' ') : String(spec.default);
        expect(row, `${flag}: default ${d}`).toContain(d);
      }
    }
  });

  it("builds commander options whose defaults are the table's, and a given list replaces the default", () => {
    const confounds = optionOf('confounds');
    expect(confounds.defaultValue).toEqual(['trans_x', 'trans_y', 'trans_z', 'rot_x', 'rot_y', 'rot_z']);
    const parse = confounds.parseArg!;
    const first = parse('csf', confounds.defaultValue as string[]);
    expect(first).toEqual(['csf']);
    expect(parse('white_matter', first)).toEqual(['csf', 'white_matter']);
    expect(optionOf('distance').argChoices).toEqual(['correlation', 'euclidean', 'crossnobis']);
    expect(optionOf('radiusMm').defaultValue).toBe(6);
    expect(() => optionOf('minFraction').parseArg!('1.5', undefined)).toThrow(
      /--min-fraction must be a number from 0 to 1; got "1.5"/,
    );
  });
});
