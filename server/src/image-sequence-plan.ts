import { randomInt } from 'node:crypto';
import type { ImageSequencePlan, RunLabels, RunSchedule, SessionConfig } from '@orthostim/protocol';

/**
 * Where a condition-rich run (`imageTrialsPerRun`) is cut from the participant's image sequence:
 * run r is part r - 1 of the sequence of its participant (and session label). The sequence seed is
 * the config's `seed` when it has one (then every participant gets the same sequence, as every
 * run's own seed is then fixed too); otherwise the seed an earlier run of the same participant and
 * session recorded in its log (so a restarted server continues the same sequence), or a new
 * random one for a participant's first run. `previous` are the header records of the runs so far.
 */
export function imageSequencePlan(
  labels: RunLabels,
  config: Pick<SessionConfig, 'seed'>,
  previous: readonly { labels: RunLabels; schedule: RunSchedule }[],
): ImageSequencePlan {
  const runIndex = labels.run - 1;
  if (config.seed !== undefined) return { sequenceSeed: config.seed, runIndex };
  const earlier = previous.find(
    (h) =>
      h.labels.participant === labels.participant &&
      h.labels.session === labels.session &&
      h.schedule.imageSequence !== undefined,
  );
  return { sequenceSeed: earlier?.schedule.imageSequence?.sequenceSeed ?? randomInt(0, 2 ** 32 - 1), runIndex };
}
