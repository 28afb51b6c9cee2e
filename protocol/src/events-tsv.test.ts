import { describe, expect, it } from 'vitest';
import { formatEventsTsv, parseEventsTsv, recordedStimulusSet, type EventsRow } from './events-tsv';
import { plannedEventsRows } from './schedule-events';
import { buildRunSchedule } from './schedule';
import { defaultSessionConfig } from './session-config';

const row = (o: Partial<EventsRow>): EventsRow => ({
  onset: 0,
  duration: 0,
  trial_type: 'null',
  stim_file: null,
  planned_onset: null,
  response_time: null,
  trial_index: null,
  stim_id: null,
  response_key: null,
  ...o,
});

describe('events.tsv codec', () => {
  it('writes BIDS text sorted by onset with n/a, and reads it back', () => {
    const rows = [
      row({
        onset: 4.01234,
        duration: 1,
        trial_type: 'stim-02',
        stim_file: 'set/images/b.png',
        planned_onset: 4,
        trial_index: 1,
        stim_id: 'stim-02',
      }),
      row({ onset: 0.5, duration: 0, trial_type: 'response', response_key: '1' }),
      row({ onset: 0.1 + 0.2, duration: 0.2, trial_type: 'fixation_change', response_time: 0.2, trial_index: 0 }),
    ];
    const text = formatEventsTsv(rows);
    expect(text).toBe(
      [
        'onset\tduration\ttrial_type\tstim_file\tplanned_onset\tresponse_time\ttrial_index\tstim_id\tresponse_key',
        '0.3\t0.2\tfixation_change\tn/a\tn/a\t0.2\t0\tn/a\tn/a',
        '0.5\t0\tresponse\tn/a\tn/a\tn/a\tn/a\tn/a\t1',
        '4.0123\t1\tstim-02\tset/images/b.png\t4\tn/a\t1\tstim-02\tn/a',
        '',
      ].join('\n'),
    );
    const back = parseEventsTsv(text, 'x.tsv');
    expect(back.map((r) => r.trial_type)).toEqual(['fixation_change', 'response', 'stim-02']);
    expect(back[2]).toEqual(
      row({
        onset: 4.0123,
        duration: 1,
        trial_type: 'stim-02',
        stim_file: 'set/images/b.png',
        planned_onset: 4,
        trial_index: 1,
        stim_id: 'stim-02',
      }),
    );
  });

  it('reads files with only the required columns, and names the bad line', () => {
    expect(parseEventsTsv('onset\tduration\ttrial_type\n1\t2\tface\n', 'a.tsv')).toEqual([
      row({ onset: 1, duration: 2, trial_type: 'face' }),
    ]);
    expect(() => parseEventsTsv('onset\tduration\n', 'a.tsv')).toThrow(/a.tsv: header must have a "trial_type" column/);
    expect(() => parseEventsTsv('onset\tduration\ttrial_type\nx\t2\tface\n', 'a.tsv')).toThrow(
      /a.tsv: line 2: column onset: expected a number or n\/a; got "x"/,
    );
  });

  it('refuses values with tabs', () => {
    expect(() => formatEventsTsv([row({ trial_type: 'a\tb' })])).toThrow(/contains a tab/);
  });
});

describe('plannedEventsRows', () => {
  it('has one row per trial and per fixation change, planned onset as onset', () => {
    const s = buildRunSchedule(['p', 'q', 'r'], defaultSessionConfig(), 3);
    const rows = plannedEventsRows(s, (i) => `set/${i}.png`);
    expect(rows).toHaveLength(s.trials.length + s.fixationChanges.length);
    const trialRows = rows.filter((r) => r.trial_type !== 'fixation_change');
    for (const r of trialRows) {
      const t = s.trials[r.trial_index!]!;
      expect(r.onset).toBe(t.onsetS);
      expect(r.stim_file).toBe(t.imageIndex === null ? null : `set/${t.imageIndex}.png`);
    }
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.onset).toBeGreaterThanOrEqual(rows[i - 1]!.onset);
  });
});

describe('recordedStimulusSet', () => {
  const sha = 'a'.repeat(64);
  it('reads the Orthostim object (the place BIDS validators accept)', () => {
    expect(
      recordedStimulusSet({
        onset: { Description: 'x' },
        Orthostim: { StimulusSetSha256: sha, StimulusSetFile: 's.json' },
      }),
    ).toEqual({ sha256: sha, file: 's.json' });
  });
  it('reads the top-level keys of datasets recorded before, and the Orthostim object wins', () => {
    expect(recordedStimulusSet({ StimulusSetSha256: sha, StimulusSetFile: 'old.json' })).toEqual({
      sha256: sha,
      file: 'old.json',
    });
    expect(recordedStimulusSet({ StimulusSetSha256: 'b'.repeat(64), Orthostim: { StimulusSetSha256: sha } })).toEqual({
      sha256: sha,
    });
    expect(recordedStimulusSet({ Orthostim: 'not an object' })).toEqual({});
  });
});
