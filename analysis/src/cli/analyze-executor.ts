/**
 * `orthostim analyze ... --executor local|slurm`: the participant level as one task per
 * participant (each the ordinary command with `--participant-label <label>`), the group level as
 * one task queued behind them. The tasks, their state and logs live in
 * `<output_dir>/.orthostim-jobs/`; see docs/cluster.md.
 */
import { resolve } from 'node:path';
import { info } from '@orthostim/protocol/cli';
import {
  groupTaskArgs,
  participantTaskArgs,
  runGroupJob,
  runParticipantJobs,
  type ExecutorSettings,
} from '@orthostim/executor';
import { reportJobGroup, withInterrupt } from '@orthostim/executor/cli';

/** The user's command line after `orthostim` (what each task repeats, minus the executor flags). */
const userArgs = () => process.argv.slice(2);

export async function runParticipantsOnExecutor(
  outputDir: string,
  labels: readonly string[],
  settings: ExecutorSettings,
): Promise<void> {
  const argv = userArgs();
  const result = await withInterrupt((signal) =>
    runParticipantJobs({
      outputDir: resolve(outputDir),
      labels,
      argsFor: (label) => participantTaskArgs(argv, label),
      settings,
      hooks: { signal },
    }),
  );
  reportJobGroup(result, settings.wait ?? true);
  if (settings.wait ?? true) {
    info(
      `analyze participant: ${result.done.length} participant(s) done with --executor ${settings.executor}; task logs in ${result.jobDir}/logs`,
    );
    process.stdout.write(`analyze participant: done, ${result.done.length} participant(s) in ${resolve(outputDir)}\n`);
  }
}

export async function runGroupOnExecutor(outputDir: string, settings: ExecutorSettings): Promise<void> {
  const argv = userArgs();
  const result = await withInterrupt((signal) =>
    runGroupJob({ outputDir: resolve(outputDir), args: groupTaskArgs(argv), settings, hooks: { signal } }),
  );
  reportJobGroup(result, settings.wait ?? true);
  if (settings.wait ?? true)
    process.stdout.write(
      `analyze group: done with --executor ${settings.executor}; log ${result.jobDir}/logs/group.log\n`,
    );
}
