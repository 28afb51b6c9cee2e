import { describe, expect, it } from 'vitest';
import { checkAllowList, countNewlines, findSizeViolations, isLimitedSource, measureFunctions } from './size-limits';

/** A function body of `n` lines in total (header, n - 2 statements, closing brace). */
const body = (n: number): string => Array.from({ length: n - 2 }, (_, i) => `  const v${i} = ${i};`).join('\n');

describe('measureFunctions', () => {
  it('names declarations, methods, arrows, function expressions and callbacks, with the lines they span', () => {
    const text = [
      'export function top() {', // 1
      body(5), // 2-4
      '}', // 5
      'class Pool {', // 6
      '  run() {', // 7
      '    return 1;', // 8
      '  }', // 9
      '  get size() { return 0; }', // 10
      '}', // 11
      'const arrow = (x: number) =>', // 12
      '  x + 1;', // 13
      'const expr = function () {', // 14
      '  items.forEach((item) => {', // 15
      '    use(item);', // 16
      '  });', // 17
      '};', // 18
    ].join('\n');
    const found = measureFunctions(text, 'a.ts').map((f) => [f.function, f.lines]);
    expect(found).toEqual([
      ['top', 5],
      ['Pool.run', 3],
      ['Pool.size', 1],
      ['arrow', 2],
      ['expr', 5],
      ['expr > (callback of forEach)', 3],
    ]);
  });

  it('reads JavaScript as well', () => {
    expect(measureFunctions('export const f = async () => {\n  await g();\n};\n', 'x.mjs')).toEqual([
      { file: 'x.mjs', function: 'f', lines: 3 },
    ]);
  });
});

describe('findSizeViolations', () => {
  it('flags a function of 81 lines and not one of 80', () => {
    const text = `function ok() {\n${body(80)}\n}\nfunction long() {\n${body(81)}\n}\n`;
    expect(findSizeViolations(text, 'f.ts')).toEqual([{ file: 'f.ts', function: 'long', lines: 81 }]);
  });

  it('counts a file in newline characters and flags one over 500', () => {
    expect(countNewlines('a\nb\n\nc')).toBe(3);
    expect(findSizeViolations('\n'.repeat(500), 'f.ts')).toEqual([]);
    expect(findSizeViolations('\n'.repeat(501), 'f.ts')).toEqual([{ file: 'f.ts', function: '(file)', lines: 501 }]);
  });
});

describe('isLimitedSource', () => {
  it('takes sources and leaves tests, benchmarks, fixtures and generated code out', () => {
    expect(isLimitedSource('analysis/src/pipeline/group.ts')).toBe(true);
    expect(isLimitedSource('bin/orthostim.js')).toBe(true);
    expect(isLimitedSource('tooling/src/node-bundle.mjs')).toBe(true);
    expect(isLimitedSource('analysis/src/pipeline/group.test.ts')).toBe(false);
    expect(isLimitedSource('analysis/test/participant-maps.ts')).toBe(false);
    expect(isLimitedSource('test/src/summary-reporter.ts')).toBe(false);
    expect(isLimitedSource('analysis/bench/group.ts')).toBe(false);
    expect(isLimitedSource('analysis/src/io/fixtures/make.ts')).toBe(false);
    expect(isLimitedSource('analysis/src/numpy-reference.fixture.ts')).toBe(false);
    expect(isLimitedSource('protocol/src/generated/schema.ts')).toBe(false);
    expect(isLimitedSource('docs/architecture.md')).toBe(false);
  });
});

describe('checkAllowList', () => {
  const listed = { file: 'a.ts', function: 'run', lines: 120 };

  it('passes listed violations up to their lines, fails new ones and growth', () => {
    const same = checkAllowList([{ ...listed }], [listed]);
    expect(same).toEqual({ failures: [], loose: [] });
    const grown = checkAllowList([{ ...listed, lines: 121 }], [listed]);
    expect(grown.failures).toEqual([{ violation: { ...listed, lines: 121 }, allowed: 120 }]);
    const fresh = { file: 'b.ts', function: 'run', lines: 90 };
    expect(checkAllowList([fresh], [listed]).failures).toEqual([{ violation: fresh, allowed: undefined }]);
  });

  it('names entries that can be tightened or removed', () => {
    const shrunk = checkAllowList([{ ...listed, lines: 100 }], [listed]);
    expect(shrunk).toEqual({ failures: [], loose: [{ entry: listed, now: 100 }] });
    expect(checkAllowList([], [listed]).loose).toEqual([{ entry: listed, now: undefined }]);
  });
});
