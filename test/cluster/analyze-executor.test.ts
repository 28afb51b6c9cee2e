/**
 * `orthostim analyze --executor slurm|local` end to end through the real command line, against a
 * plain in-process run of the same commands on the tiny planted study (analysis/test/tiny-study.ts):
 * every map must be identical (provenance records may differ). The SLURM cluster is a real
 * one-node cluster the test starts (executor/test/support/slurm-cluster.ts).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '@orthostim/test';
import { readNifti } from '../../analysis/src/io/nifti';
import { writeTinyStudy, type TinyStudy } from '../../analysis/test/tiny-study';
import { slurmSkipReason, startSlurmCluster, type SlurmCluster } from '../../executor/test/support/slurm-cluster';

const skip = slurmSkipReason('test/cluster/analyze-executor.test.ts') !== null;

function listFiles(dir: string, root = dir): string[] {
  return readdirSync(dir)
    .filter((f) => f !== '.orthostim-jobs')
    .flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? listFiles(p, root) : [relative(root, p)];
    })
    .sort();
}

/** Every NIfTI map under `a` has a twin under `b` with the same voxels; the file lists match. */
function expectSameMaps(a: string, b: string): number {
  const files = listFiles(a);
  expect(listFiles(b)).toEqual(files);
  const maps = files.filter((f) => f.endsWith('.nii.gz') || f.endsWith('.nii'));
  for (const f of maps) {
    const va = readNifti(join(a, f));
    const vb = readNifti(join(b, f));
    expect(vb.dims, f).toEqual(va.dims);
    expect(
      Buffer.from(vb.data.buffer, vb.data.byteOffset, vb.data.byteLength).equals(
        Buffer.from(va.data.buffer, va.data.byteOffset, va.data.byteLength),
      ),
      f,
    ).toBe(true);
  }
  for (const f of files.filter((x) => x.endsWith('.tsv')))
    expect(readFileSync(join(b, f), 'utf8'), f).toBe(readFileSync(join(a, f), 'utf8'));
  return maps.length;
}

describe.skipIf(skip)('orthostim analyze on an executor gives the maps of a plain run', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'orthostim-cluster-analyze-'));
  const bids = join(tmp, 'bids');
  let study: TinyStudy;
  let cluster: SlurmCluster;
  const common = () => ['--stimuli', study.stimuli, '--threads', '1'];

  beforeAll(async () => {
    [study, cluster] = await Promise.all([writeTinyStudy(bids), startSlurmCluster()]);
    const ref = join(tmp, 'plain');
    const p = await runCli(['analyze', bids, ref, 'participant', ...common()]);
    expect(p.code, p.stderr).toBe(0);
    const g = await runCli(['analyze', bids, ref, 'group', '--n-permutations', '100']);
    expect(g.code, g.stderr).toBe(0);
  });
  afterAll(async () => {
    await cluster?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('slurm: participants as an array job (--no-wait prints the job id), group queued behind them; maps equal', async () => {
    const out = join(tmp, 'slurm');
    const env = { ...(cluster.env as Record<string, string>), ORTHOSTIM_POLL_MS: '300' };
    const p = await runCli(
      ['analyze', bids, out, 'participant', ...common(), '--executor', 'slurm', '--slurm-mem', '500M', '--no-wait'],
      { env },
    );
    expect(p.code, p.stderr).toBe(0);
    const job = p.stdout.trim();
    expect(job).toMatch(/^\d+$/);
    expect(p.stderr).toMatch(new RegExp(`submitted 3 task\\(s\\) as job ${job}`));
    const g = await runCli(['analyze', bids, out, 'group', '--n-permutations', '100', '--executor', 'slurm'], { env });
    expect(g.code, g.stderr).toBe(0);
    expect(g.stdout).toMatch(/analyze group: done with --executor slurm/);
    const groupState = JSON.parse(readFileSync(join(out, '.orthostim-jobs', 'analyze-group', 'state.json'), 'utf8'));
    const dependency: string | undefined = groupState.submissions[0].dependency;
    // Queued behind whichever participant tasks were still unfinished when the group was submitted.
    if (dependency) expect(dependency).toMatch(new RegExp(`^afterok(:${job}_[0-2])+$`));
    expect(readFileSync(join(out, '.orthostim-jobs', 'analyze-participant', 'job.sh'), 'utf8')).toContain(
      '--participant-label 02',
    );
    expect(expectSameMaps(join(tmp, 'plain'), out)).toBeGreaterThan(20);
    // A rerun finds everything done and submits nothing.
    const again = await runCli(['analyze', bids, out, 'participant', ...common(), '--executor', 'slurm'], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/all 3 task\(s\) done/);
  });

  it('local: participants in parallel processes; maps equal', async () => {
    const out = join(tmp, 'local');
    const p = await runCli(['analyze', bids, out, 'participant', ...common(), '--executor', 'local', '--n-jobs', '2']);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toMatch(/analyze participant: done, 3 participant\(s\)/);
    const g = await runCli(['analyze', bids, out, 'group', '--n-permutations', '100']);
    expect(g.code, g.stderr).toBe(0);
    expectSameMaps(join(tmp, 'plain'), out);
    expect(existsSync(join(out, '.orthostim-jobs', 'analyze-participant', 'logs', 'sub-03.log'))).toBe(true);
  });
});
