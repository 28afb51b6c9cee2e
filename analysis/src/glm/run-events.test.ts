import { describe, expect, it } from 'vitest';
import { InputError, type EventsRow } from '@orthostim/protocol';
import { toRunEvents } from './run-events';

const row = (onset: number, duration: number, trial_type: string): EventsRow => ({
  onset,
  duration,
  trial_type,
  stim_file: null,
  planned_onset: null,
  response_time: null,
  trial_index: null,
  stim_id: null,
  response_key: null,
});

describe('toRunEvents', () => {
  it('refuses a negative duration, naming the file and the row (it would be a negative boxcar)', () => {
    const images = [{ id: 'a', file: 'images/a.png' }];
    const rows = [row(0, 1, 'a'), row(4, -2, 'a')];
    expect(() => toRunEvents(rows, images, 'sub-01_task-rdm_events.tsv')).toThrow(InputError);
    expect(() => toRunEvents(rows, images, 'sub-01_task-rdm_events.tsv')).toThrow(
      'sub-01_task-rdm_events.tsv: row 2 (onset 4): duration -2 is negative; expected a duration >= 0 in seconds',
    );
    expect(toRunEvents([row(0, 0, 'a')], images, 'f').map((e) => e.durationS)).toEqual([0]);
  });
});
