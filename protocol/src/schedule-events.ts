import type { EventsRow } from './events-tsv';
import type { RunSchedule } from './schedule';

/**
 * The events rows of a schedule as planned (onset = planned onset), for simulated runs. The
 * session server writes measured onsets instead; both use the same columns.
 * `stimFile(imageIndex)` gives the path relative to the dataset's stimuli/ folder.
 */
export function plannedEventsRows(schedule: RunSchedule, stimFile: (imageIndex: number) => string): EventsRow[] {
  const rows: EventsRow[] = schedule.trials.map((t) => ({
    onset: t.onsetS,
    duration: t.durationS,
    trial_type: t.imageId ?? 'null',
    stim_file: t.imageIndex === null ? null : stimFile(t.imageIndex),
    planned_onset: t.onsetS,
    response_time: null,
    trial_index: t.index,
    stim_id: t.imageId,
    response_key: null,
  }));
  for (const c of schedule.fixationChanges) {
    rows.push({
      onset: c.onsetS,
      duration: c.durationS,
      trial_type: 'fixation_change',
      stim_file: null,
      planned_onset: c.onsetS,
      response_time: null,
      trial_index: c.index,
      stim_id: null,
      response_key: null,
    });
  }
  return rows.sort((a, b) => a.onset - b.onset);
}
