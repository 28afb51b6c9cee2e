/**
 * The slurm executor against a real single-node SLURM cluster started by the test (see
 * support/slurm-cluster.ts). Without SLURM installed the suite is skipped locally with a warning;
 * under CI it runs, and a cluster that cannot start fails it with the reason.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  readTaskStatus,
  runGroupJob,
  runJobGroup,
  runParticipantJobs,
  SchedulerError,
  type ExecutorSettings,
} from '../src/index';
import { cancelAndRetryScenario, readOutput, recordingProgress, standInProgram, waitForFile } from './support/scenario';
import { slurmSkipReason, startSlurmCluster, type SlurmCluster } from './support/slurm-cluster';
import { testTempDir } from '@orthostim/test';

const skip = slurmSkipReason('executor/test/slurm-executor.test.ts') !== null;

describe.skipIf(skip)('slurm executor on a real one-node cluster', () => {
  let cluster: SlurmCluster;
  let slurm: ExecutorSettings;
  beforeAll(async () => {
    cluster = await startSlurmCluster();
    slurm = { executor: 'slurm', pollIntervalMs: 300, graceMs: 3000, env: cluster.env };
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('runs an array job; scancel of a running task is reported with its log and --retry-failed completes it', async () => {
    await cancelAndRetryScenario(slurm, (jobDir, taskId) => {
      const st = readTaskStatus(jobDir, taskId);
      if (!st || !/^\d+_\d+$/.test(st.job)) throw new Error(`no SLURM status for ${taskId}: ${JSON.stringify(st)}`);
      const r = cluster.run('scancel', [st.job]);
      if (r.code !== 0) throw new Error(`scancel ${st.job}: ${r.stderr}`);
    });
  });

  it('--no-wait submits and returns; a rerun follows the queued job instead of resubmitting', async () => {
    const dir = testTempDir('slurm-nw-');
    const spec = {
      name: 'nw',
      outputDir: join(dir, 'out'),
      program: standInProgram(),
      tasks: [0, 1].map((i) => ({ id: `t${i}`, args: ['write', '--out', join(dir, `${i}.json`)] })),
    };
    const r1 = await runJobGroup(spec, { ...slurm, wait: false }, { progress: recordingProgress() });
    expect(r1.submitted?.job).toMatch(/^\d+$/);
    expect(r1.active.map((t) => t.job)).toEqual([`${r1.submitted!.job}_0`, `${r1.submitted!.job}_1`]);
    const r2 = await runJobGroup(spec, slurm, { progress: recordingProgress() });
    expect(r2.submitted).toBeNull();
    expect(r2.done.map((t) => t.job)).toEqual([`${r1.submitted!.job}_0`, `${r1.submitted!.job}_1`]);
    expect(readOutput(join(dir, '1.json')).argv).toContain(join(dir, '1.json'));
  });

  it('queues the group step behind the participant tasks (afterok) so it starts only after they succeed', async () => {
    const dir = testTempDir('slurm-dep-');
    const out = join(dir, 'out');
    const hold = join(dir, 'hold');
    const progress = recordingProgress();
    const p = await runParticipantJobs({
      outputDir: out,
      labels: ['01', '02'],
      argsFor: (label) => [
        'write',
        '--out',
        join(dir, `sub-${label}.json`),
        ...(label === '02' ? ['--hold', hold] : []),
      ],
      settings: { ...slurm, wait: false },
      program: standInProgram(),
      hooks: { progress },
    });
    const job = p.submitted!.job;
    const g = await runGroupJob({
      outputDir: out,
      args: ['write', '--out', join(dir, 'group.json'), '--expect-exists', join(dir, 'sub-02.json')],
      settings: { ...slurm, wait: false },
      program: standInProgram(),
      hooks: { progress },
    });
    expect(g.state.submissions.at(-1)?.dependency).toBe(`afterok:${job}_0:${job}_1`);
    await waitForFile(`${hold}.started`);
    const queued = cluster.run('squeue', ['-h', '-j', g.submitted!.job, '-o', '%T|%r']).stdout.trim();
    expect(queued).toBe('PENDING|Dependency');
    writeFileSync(`${hold}.release`, '');
    const g2 = await runGroupJob({
      outputDir: out,
      args: g.state.tasks[0]!.args,
      settings: slurm,
      program: standInProgram(),
      hooks: { progress },
    });
    expect(g2.submitted).toBeNull();
    expect(g2.done.map((t) => t.id)).toEqual(['group']);
    expect(readOutput(join(dir, 'group.json')).argv).toContain('--expect-exists');
  });

  it('a task cancelled before it started (held back by --n-jobs 1) is reported once it has left the queue', async () => {
    const dir = testTempDir('slurm-pend-');
    const hold = join(dir, 'hold');
    const progress = recordingProgress();
    const spec = {
      name: 'pend',
      outputDir: join(dir, 'out'),
      program: standInProgram(),
      tasks: [
        { id: 'first', args: ['write', '--out', join(dir, 'first.json'), '--hold', hold] },
        { id: 'second', args: ['write', '--out', join(dir, 'second.json')] },
      ],
    };
    const run = runJobGroup(spec, { ...slurm, nJobs: 1 }, { progress });
    await waitForFile(`${hold}.started`);
    const st = readTaskStatus(join(dir, 'out', '.orthostim-jobs', 'pend'), 'first')!;
    const second = st.job.replace(/_0$/, '_1');
    expect(cluster.run('squeue', ['-h', '-j', second, '-o', '%T']).stdout.trim()).toBe('PENDING');
    cluster.run('scancel', [second]);
    writeFileSync(`${hold}.release`, '');
    const r = await run;
    expect(r.done.map((t) => t.id)).toEqual(['first']);
    expect(r.failed).toMatchObject([
      {
        id: 'second',
        reason: expect.stringMatching(/^cancelled before it started$|^left the queue without recording an end/),
      },
    ]);
    expect(progress.messages[0]).toMatch(/task second failed .*log: .*second\.log/);
  });

  it('passes the scheduler refusal on as one line naming sbatch and its reason', async () => {
    const dir = testTempDir('slurm-bad-');
    const run = runJobGroup(
      { name: 'bad', outputDir: dir, program: standInProgram(), tasks: [{ id: 'a', args: [] }] },
      { ...slurm, slurm: { partition: 'nosuchpart' } },
      { progress: recordingProgress() },
    );
    await expect(run).rejects.toThrow(SchedulerError);
    await expect(run).rejects.toThrow(/sbatch --parsable --array=0 .* failed \(exit 1\): .*[Ii]nvalid partition/);
  });
});
