import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderJobScript, sbatchDirectives, shellQuote, type TaskProgram } from './job-script';
import { readTaskStatus } from './task-status';
import { testTempDir } from '@orthostim/test';

const STAND_IN = join(import.meta.dirname, '..', 'test', 'support', 'stand-in-task.mjs');
const program = (cwd: string): TaskProgram => ({ node: process.execPath, entry: STAND_IN, cwd });

function setup(args: (dir: string) => string[][]) {
  const dir = testTempDir('jobscript-');
  const jobDir = join(dir, 'jobs', 'g');
  const tasks = args(dir).map((a, i) => ({ id: `t-${i}`, args: a }));
  const script = join(dir, 'job.sh');
  writeFileSync(script, renderJobScript({ name: 'g', jobDir, tasks, program: program(dir) }));
  const run = (index: number | string) =>
    spawnSync('bash', [script], {
      env: { ...process.env, ORTHOSTIM_TASK_INDEX: String(index), ORTHOSTIM_JOB_ID: `L_${index}` },
      encoding: 'utf8',
    });
  return { dir, jobDir, script, run };
}

describe('shellQuote', () => {
  it('leaves plain words alone and single-quotes the rest', () => {
    expect(shellQuote('--radius-mm=6')).toBe('--radius-mm=6');
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote('')).toBe("''");
  });
});

describe('renderJobScript run by bash', () => {
  it('passes every argument through verbatim, runs in the work folder and records done', () => {
    const tricky = [
      'with space',
      "single'quote",
      'double"quote',
      '$HOME `id` $(id)',
      'back\\slash',
      '*',
      'new\nline',
      '',
    ];
    const { dir, jobDir, run } = setup((d) => [
      ['write', '--out', join(d, 'out.json'), '--value', 'x', '--', ...tricky],
    ]);
    const r = run(0);
    expect(r.status).toBe(0);
    const written = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8'));
    expect(written.argv).toEqual(['write', '--out', join(dir, 'out.json'), '--value', 'x', '--', ...tricky]);
    expect(written.cwd).toBe(dir);
    expect(readTaskStatus(jobDir, 't-0')).toMatchObject({ task: 't-0', job: 'L_0', state: 'done', exitCode: 0 });
    const log = readFileSync(join(jobDir, 'logs', 't-0.log'), 'utf8');
    expect(log).toMatch(/=== orthostim task t-0 \(index 0, job L_0\)/);
    expect(log).toMatch(/stand-in-task: wrote/);
    expect(log).toMatch(/=== orthostim task t-0 done/);
  });

  it('records a failure with the exit code and exits with it', () => {
    const { dir, jobDir, run } = setup((d) => [
      ['write', '--out', join(d, 'a'), '--exit', '0'],
      ['write', '--out', join(d, 'b'), '--exit', '7'],
    ]);
    expect(run(1).status).toBe(7);
    expect(readTaskStatus(jobDir, 't-1')).toMatchObject({ state: 'failed', exitCode: 7 });
    expect(readTaskStatus(jobDir, 't-0')).toBeNull();
    expect(existsSync(join(dir, 'b'))).toBe(true);
  });

  it('refuses an index it has no task for', () => {
    const { run } = setup((d) => [['write', '--out', join(d, 'a')]]);
    const r = run(5);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no task with index '5' \(expected 0-0/);
  });

  it('passes SIGTERM on to the task and records it as a signal', async () => {
    const { dir, jobDir, script } = setup((d) => [['write', '--out', join(d, 'out'), '--hold', join(d, 'hold')]]);
    const child = spawn('bash', [script], {
      env: { ...process.env, ORTHOSTIM_TASK_INDEX: '0', ORTHOSTIM_JOB_ID: 'L_0' },
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    while (!existsSync(join(dir, 'hold.started'))) await new Promise((r) => setTimeout(r, 50));
    expect(readTaskStatus(jobDir, 't-0')).toMatchObject({ state: 'running', pid: child.pid });
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
    expect(readTaskStatus(jobDir, 't-0')).toMatchObject({ state: 'failed', exitCode: 143, signal: 'TERM' });
    expect(existsSync(join(dir, 'out'))).toBe(false);
    // The stand-in itself was stopped, not left running.
    const pid = Number(readFileSync(join(dir, 'hold.started'), 'utf8'));
    expect(() => process.kill(pid, 0)).toThrow();
  });
});

describe('sbatchDirectives', () => {
  it('writes the resources as #SBATCH lines, quoting values with blanks', () => {
    expect(
      sbatchDirectives('g', '/o/.orthostim-jobs/g', {
        partition: 'short',
        time: '02:00:00',
        mem: '8G',
        cpus: 4,
        account: 'lab',
        extra: ['--qos=normal', '--comment=two words'],
      }),
    ).toEqual([
      '#SBATCH --job-name=orthostim-g',
      '#SBATCH --output=/o/.orthostim-jobs/g/logs/slurm-%A_%a.out',
      '#SBATCH --open-mode=append',
      '#SBATCH --partition=short',
      '#SBATCH --account=lab',
      '#SBATCH --time=02:00:00',
      '#SBATCH --mem=8G',
      '#SBATCH --cpus-per-task=4',
      '#SBATCH --qos=normal',
      '#SBATCH --comment="two words"',
    ]);
  });
  it('is what bash -n accepts as a script', () => {
    const s = renderJobScript({
      name: 'g',
      jobDir: '/x y/j',
      tasks: [{ id: 'a', args: ["it's"] }],
      program: { node: '/n', entry: '/e', cwd: '/c d' },
      resources: { mem: '1G' },
    });
    expect(spawnSync('bash', ['-n'], { input: s }).status).toBe(0);
  });
});
