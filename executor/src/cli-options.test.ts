import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import {
  EXECUTOR_FLAG_ARITY,
  addExecutorOptions,
  readExecutorSettings,
  splitExtraArgs,
  stripArgs,
} from './cli-options';
import { groupTaskArgs, participantTaskArgs } from './participant-jobs';

function parse(args: string[]) {
  const cmd = addExecutorOptions(new Command('x').exitOverride().configureOutput({ writeErr: () => {} }));
  cmd.parse(args, { from: 'user' });
  return cmd.opts();
}

describe('stripArgs', () => {
  it('removes flags with their values in both spellings, keeping everything else in order', () => {
    const argv = [
      'analyze',
      'bids',
      'out',
      'participant',
      '--executor',
      'slurm',
      '--stimuli',
      's.json',
      '--slurm-mem=8G',
      '--no-wait',
      '--radius-mm',
      '6',
      '--n-jobs',
      '4',
    ];
    expect(stripArgs(argv, EXECUTOR_FLAG_ARITY)).toEqual([
      'analyze',
      'bids',
      'out',
      'participant',
      '--stimuli',
      's.json',
      '--radius-mm',
      '6',
    ]);
  });
  it('removes a variadic flag up to the next flag, and stops at --', () => {
    expect(
      stripArgs(['a', '--participant-label', '01', 'sub-02', '--task', 'x', '--', '--executor', 'slurm'], {
        '--participant-label': 'variadic',
        '--executor': 1,
      }),
    ).toEqual(['a', '--task', 'x', '--', '--executor', 'slurm']);
  });
});

describe('participantTaskArgs / groupTaskArgs', () => {
  it('gives each participant the user command with its own label and without executor flags', () => {
    const argv = [
      'analyze',
      '/b',
      '/o',
      'participant',
      '--participant-label',
      '01',
      '02',
      '--executor',
      'local',
      '--n-jobs',
      '2',
      '--stimuli',
      '/s.json',
    ];
    expect(participantTaskArgs(argv, '02')).toEqual([
      'analyze',
      '/b',
      '/o',
      'participant',
      '--stimuli',
      '/s.json',
      '--participant-label',
      '02',
    ]);
    expect(
      groupTaskArgs([
        'analyze',
        '/b',
        '/o',
        'group',
        '--executor',
        'slurm',
        '--slurm-time',
        '10',
        '--n-permutations',
        '100',
      ]),
    ).toEqual(['analyze', '/b', '/o', 'group', '--n-permutations', '100']);
  });
});

describe('splitExtraArgs', () => {
  it('splits like a shell, honouring quotes', () => {
    expect(splitExtraArgs(`--qos=short  --constraint="avx2&fma" --comment='a b'`)).toEqual([
      '--qos=short',
      '--constraint=avx2&fma',
      '--comment=a b',
    ]);
  });
  it('refuses words that are not options and the options orthostim sets itself', () => {
    expect(() => splitExtraArgs('--qos=short gpu')).toThrow(/every word must be an sbatch option.*"gpu"/);
    expect(() => splitExtraArgs('--array=0-3')).toThrow(/set by orthostim itself/);
    expect(() => splitExtraArgs('--comment="open')).toThrow(/unclosed "/);
    expect(() => splitExtraArgs(`--qos="a b" --comment='c d`)).toThrow(/unclosed '/);
    expect(() => splitExtraArgs('--qos=short; rm -rf x')).toThrow(/shell operators and comments are not allowed/);
  });
  it('keeps variables and wildcards as written (sbatch gets them without a shell)', () => {
    expect(splitExtraArgs('--export=HOME=$HOME --chdir=/data/*')).toEqual(['--export=HOME=$HOME', '--chdir=/data/*']);
  });
});

describe('readExecutorSettings', () => {
  it('is undefined without --executor', () => {
    expect(readExecutorSettings(parse([]))).toBeUndefined();
  });
  it('collects the slurm settings', () => {
    const s = readExecutorSettings(
      parse([
        '--executor',
        'slurm',
        '--n-jobs',
        '3',
        '--slurm-partition',
        'short',
        '--slurm-time',
        '1-00:00:00',
        '--slurm-mem',
        '8G',
        '--slurm-cpus',
        '2',
        '--slurm-account',
        'lab',
        '--slurm-extra=--qos=x',
        '--no-wait',
        '--retry-failed',
      ]),
    );
    expect(s).toEqual({
      executor: 'slurm',
      nJobs: 3,
      wait: false,
      retryFailed: true,
      slurm: { partition: 'short', time: '1-00:00:00', mem: '8G', cpus: 2, account: 'lab', extra: ['--qos=x'] },
    });
  });
  it('refuses executor flags without --executor, slurm flags with local, and --no-wait with local', () => {
    expect(() => readExecutorSettings(parse(['--slurm-mem', '8G', '--retry-failed']))).toThrow(
      /--slurm-mem, --retry-failed need --executor local\|slurm/,
    );
    expect(() => readExecutorSettings(parse(['--executor', 'local', '--slurm-time', '10']))).toThrow(
      /--slurm-time need --executor slurm; got --executor local/,
    );
    expect(() => readExecutorSettings(parse(['--executor', 'local', '--no-wait']))).toThrow(
      /--no-wait needs --executor slurm/,
    );
  });
  it('validates values as commander parses them, naming the flag', () => {
    expect(() => parse(['--executor', 'pbs'])).toThrow(/Allowed choices are local, slurm/);
    expect(() => parse(['--slurm-time', '2h'])).toThrow(/--slurm-time must be minutes.*got "2h"/);
    expect(() => parse(['--slurm-mem', 'lots'])).toThrow(/--slurm-mem must be a size.*got "lots"/);
    expect(() => parse(['--n-jobs', '0'])).toThrow(/--n-jobs must be a whole number >= 1; got "0"/);
  });
});
