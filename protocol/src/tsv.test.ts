import { describe, expect, it } from 'vitest';
import { formatTsv, parseTsv } from './tsv';

describe('formatTsv', () => {
  it('writes the header and rows, n/a for missing values, a newline after every line', () => {
    const text = formatTsv(
      ['index', 'name', 'r'],
      [
        [1, 'conv1', 0.25],
        [2, null, Number.NaN],
      ],
    );
    expect(text).toBe('index\tname\tr\n1\tconv1\t0.25\n2\tn/a\tn/a\n');
    expect(formatTsv(['a'], [])).toBe('a\n');
  });

  it('refuses cells with tabs or line breaks and rows of the wrong length', () => {
    expect(() => formatTsv(['name'], [['a\tb']])).toThrow(/TSV column name: value "a\\tb" contains a tab/);
    expect(() => formatTsv(['a', 'b'], [[1]])).toThrow(/row 1 has 1 cells; the header has 2/);
  });
});

describe('parseTsv', () => {
  it('reads what formatTsv writes, with line numbers, skipping blank lines and CRLF ends', () => {
    const table = parseTsv('index\t name \r\n1\tconv1\r\n\r\n3\tpool5\n');
    expect(table).toEqual({
      columns: ['index', 'name'],
      rows: [
        { line: 2, cells: ['1', 'conv1'] },
        { line: 4, cells: ['3', 'pool5'] },
      ],
    });
    const back = parseTsv(formatTsv(['a', 'b'], [['x', 2]]));
    expect(back.rows[0]!.cells).toEqual(['x', '2']);
  });
});
