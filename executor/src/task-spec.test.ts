import { describe, expect, it } from 'vitest';
import { formatProgressLine } from './progress-line';
import { checkTasks, formatIndexRanges, parseIndexRanges } from './task-spec';

describe('formatIndexRanges / parseIndexRanges', () => {
  it('collapses runs and expands them back', () => {
    expect(formatIndexRanges([7, 0, 1, 2, 3, 9, 10, 3])).toBe('0-3,7,9-10');
    expect(parseIndexRanges('0-3,7,9-10')).toEqual([0, 1, 2, 3, 7, 9, 10]);
    expect(parseIndexRanges('[3-5%2]')).toEqual([3, 4, 5]);
    expect(parseIndexRanges('0-9:3')).toEqual([0, 3, 6, 9]);
  });
  it('refuses what SLURM would not print', () => {
    expect(() => parseIndexRanges('3-x')).toThrow(/got "3-x"/);
    expect(() => parseIndexRanges('5-3')).toThrow(/empty range/);
  });
});

describe('checkTasks', () => {
  it('refuses unsafe or repeated ids and empty groups', () => {
    expect(() =>
      checkTasks([
        { id: 'sub-01', args: [] },
        { id: 'seed-2.b_c', args: [] },
      ]),
    ).not.toThrow();
    expect(() => checkTasks([{ id: '../x', args: [] }])).toThrow(/task id must be.*"\.\.\/x"/);
    expect(() =>
      checkTasks([
        { id: 'a', args: [] },
        { id: 'a', args: [] },
      ]),
    ).toThrow(/"a" appears twice/);
    expect(() => checkTasks([])).toThrow(/no tasks/);
  });
});

describe('formatProgressLine', () => {
  it('names the executor and job, then the counts', () => {
    expect(
      formatProgressLine('analyze-participant', 'slurm', ['12', '14'], {
        new: 0,
        pending: 2,
        running: 3,
        done: 4,
        failed: 1,
      }),
    ).toBe('analyze-participant (slurm job 12, 14): 2 pending, 3 running, 4 done, 1 failed');
    expect(formatProgressLine('g', 'local', [], { new: 1, pending: 0, running: 0, done: 2, failed: 0 })).toBe(
      'g (local): 1 not submitted, 0 pending, 0 running, 2 done, 0 failed',
    );
  });
});
