import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  isActiveState,
  parseSacct,
  parseSbatchParsable,
  parseScontrolFields,
  parseScontrolJobs,
  parseSqueue,
  taskKey,
} from './slurm-output';

// Outputs recorded from slurmctld 22.05.8 (Debian bookworm) on a one-node test cluster: array job 5
// with tasks 0-5, task 1 exiting 3, task 0 cancelled while running, task 4 cancelled while pending.
const FIX = join(import.meta.dirname, '..', 'test', 'fixtures', 'slurm-22.05');
const fixture = (name: string) => readFileSync(join(FIX, name), 'utf8');

const states = (recs: ReturnType<typeof parseSqueue>) =>
  Object.fromEntries(recs.map((r) => [taskKey(r.jobId, r.index), r.state]));

describe('parseSbatchParsable', () => {
  it('reads the job id with or without the cluster name', () => {
    expect(parseSbatchParsable('12\n')).toBe('12');
    expect(parseSbatchParsable('4711;orthotest\n')).toBe('4711');
  });
  it('refuses anything else, quoting it', () => {
    expect(() => parseSbatchParsable('sbatch: error: Batch job submission failed')).toThrow(
      /expected a job id.*Batch job submission failed/,
    );
  });
});

describe('parseSqueue', () => {
  it('expands a pending range (12_[3-5]) into its tasks', () => {
    expect(states(parseSqueue(fixture('squeue-1.txt')))).toEqual({
      '5_0': 'RUNNING',
      '5_1': 'FAILED',
      '5_2': 'RUNNING',
      '5_3': 'PENDING',
      '5_4': 'PENDING',
      '5_5': 'PENDING',
    });
  });
  it('reads the per-task form (-r) to the same records', () => {
    expect(states(parseSqueue(fixture('squeue-r-1.txt')))).toEqual(states(parseSqueue(fixture('squeue-1.txt'))));
  });
  it('keeps the reason, dropping None', () => {
    const recs = parseSqueue(fixture('squeue-r-1.txt'));
    expect(recs.find((r) => r.index === 3)?.reason).toBe('Resources');
    expect(recs.find((r) => r.index === 1)?.reason).toBe('NonZeroExitCode');
    expect(recs.find((r) => r.index === 0)?.reason).toBeUndefined();
  });
  it('a task cancelled while pending leaves the list (4 is gone after scancel)', () => {
    const after = states(parseSqueue(fixture('squeue-r-2.txt')));
    expect(after['5_0']).toBe('CANCELLED');
    expect(after).not.toHaveProperty('5_4');
    expect(states(parseSqueue(fixture('squeue-r-3.txt')))).toEqual({
      '5_0': 'CANCELLED',
      '5_1': 'FAILED',
      '5_2': 'COMPLETED',
      '5_3': 'COMPLETED',
      '5_5': 'RUNNING',
    });
  });
  it('reads plain (non-array) jobs', () => {
    expect(parseSqueue('12|PENDING|DependencyNeverSatisfied|afterok:10_*(failed)\n')).toEqual([
      { jobId: '12', index: null, state: 'PENDING', reason: 'DependencyNeverSatisfied' },
    ]);
  });
  it('refuses a line that is not id|state|reason', () => {
    expect(() => parseSqueue('JOBID PARTITION NAME')).toThrow(/expected "id\|state\|reason"/);
  });
});

describe('parseScontrolJobs', () => {
  it('reads states, exit codes and signals per task, expanding the pending range', () => {
    const recs = parseScontrolJobs(fixture('scontrol-1.txt'));
    expect(recs.map((r) => taskKey(r.jobId, r.index)).sort()).toEqual(['5_0', '5_1', '5_2', '5_3', '5_4', '5_5']);
    expect(recs.find((r) => r.index === 1)).toMatchObject({ state: 'FAILED', exitCode: 3, reason: 'NonZeroExitCode' });
    expect(recs.find((r) => r.index === 4)).toMatchObject({ state: 'PENDING', reason: 'Resources' });
  });
  it('reads a cancelled task as exit 0 with signal 15', () => {
    const t0 = parseScontrolJobs(fixture('scontrol-2.txt')).find((r) => r.index === 0);
    expect(t0).toMatchObject({ state: 'CANCELLED', exitCode: 0, signal: 15 });
  });
  it('reads a plain job waiting on a failed dependency', () => {
    expect(parseScontrolJobs(fixture('scontrol-depnever.txt'))).toEqual([
      { jobId: '12', index: null, state: 'PENDING', reason: 'Dependency', exitCode: 0 },
    ]);
  });
  it('splits fields whose keys hold : and / and whose values are empty', () => {
    const f = parseScontrolFields(fixture('scontrol-1.txt').split('\n')[0]!);
    expect(f.get('AllocNode:Sid')).toBe('localhost:7262');
    expect(f.get('CPUs/Task')).toBe('1');
    expect(f.get('NodeList')).toBe('');
    expect(f.get('TRES')).toBe('cpu=1,mem=100M,node=1,billing=1');
    expect(f.get('Command')).toBe('/tmp/st/job2.sh');
  });
  it('finds no records in the error of an unknown job', () => {
    expect(parseScontrolJobs(fixture('scontrol-missing.txt'))).toEqual([]);
  });
});

describe('parseSacct', () => {
  it('reads states with "by <uid>" suffixes and exit codes', () => {
    const text = '5_0|CANCELLED by 0|0:15\n5_1|FAILED|3:0\n5_[3-4]|PENDING|0:0\n7|COMPLETED|0:0\n';
    expect(parseSacct(text)).toEqual([
      { jobId: '5', index: 0, state: 'CANCELLED', exitCode: 0, signal: 15 },
      { jobId: '5', index: 1, state: 'FAILED', exitCode: 3 },
      { jobId: '5', index: 3, state: 'PENDING', exitCode: 0 },
      { jobId: '5', index: 4, state: 'PENDING', exitCode: 0 },
      { jobId: '7', index: null, state: 'COMPLETED', exitCode: 0 },
    ]);
  });
});

describe('isActiveState', () => {
  it('separates queued and running states from ended ones', () => {
    expect(['PENDING', 'RUNNING', 'COMPLETING', 'CONFIGURING'].every(isActiveState)).toBe(true);
    expect(['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'OUT_OF_MEMORY', 'NODE_FAIL'].some(isActiveState)).toBe(
      false,
    );
  });
});
