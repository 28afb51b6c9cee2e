import { describe, expect, it } from 'vitest';
import { defaultSessionConfig, type RunSchedule } from '@orthostim/protocol';
import { buildEventsSidecar, convertRunLog } from './events-from-log';
import type { LogRecord } from './log-records';

// A hand-made run: TR 2 s, 3 trials at volumes 1, 3, 5 (2, 6, 10 s), one fixation change at 3 s.
const config = { ...defaultSessionConfig(), displayLatencyMs: 5 };
const schedule: RunSchedule = {
  seed: 9,
  repetitionTimeS: 2,
  soaS: 4,
  totalVolumes: 8,
  durationS: 16,
  trials: [
    { index: 0, imageIndex: 1, imageId: 'b', onsetVolume: 1, onsetS: 2, durationS: 1 },
    { index: 1, imageIndex: null, imageId: null, onsetVolume: 3, onsetS: 6, durationS: 1 },
    { index: 2, imageIndex: 0, imageId: 'a', onsetVolume: 5, onsetS: 10, durationS: 1 },
  ],
  fixationChanges: [{ index: 0, onsetS: 3, durationS: 0.2 }],
};
const w = 0;
const ev = (t: number, event: Record<string, unknown>): LogRecord => ({
  type: 'display',
  t,
  wallMs: w,
  event: { runId: 'r', ...event } as never,
});
const T0 = 10_000;
const records: LogRecord[] = [
  {
    type: 'run',
    t: 9000,
    wallMs: w,
    runId: 'r',
    labels: { participant: '01', session: null, task: 'orthostim', run: 1 },
    seed: 9,
    config,
    schedule,
    stimulusSet: {
      sha256: 'f'.repeat(64),
      imageIds: ['a', 'b'],
      copiedTo: 'stimuli/orthostim-ffffffffffff/stimulus-set.json',
    },
    stimFiles: ['orthostim-ffffffffffff/images/a.png', 'orthostim-ffffffffffff/images/b.png'],
    triggerSource: 'scripted',
    orthostim: '0.1.0',
    eventsFile: 'x',
  },
  { type: 'display_connection', t: 9001, wallMs: w, connected: true, clientId: 'c1' },
  { type: 'trigger', t: T0, wallMs: w, seq: 1, volume: 0 },
  { type: 'time_zero', t: T0, wallMs: w, seq: 1 },
  { type: 'trigger', t: T0 + 2001, wallMs: w, seq: 2, volume: 1 },
  ev(T0 + 2010, { id: 'e1', type: 'onset', trialIndex: 0, kind: 'image', frameMs: 1, serverMs: T0 + 2003 }),
  ev(T0 + 2010, { id: 'e1', type: 'onset', trialIndex: 0, kind: 'image', frameMs: 1, serverMs: T0 + 2003 }), // resent duplicate
  ev(T0 + 3010, { id: 'e2', type: 'offset', trialIndex: 0, frameMs: 1, serverMs: T0 + 3004 }),
  ev(T0 + 3010, { id: 'e3', type: 'fixation_change', changeIndex: 0, frameMs: 1, serverMs: T0 + 2995 }),
  ev(T0 + 3500, { id: 'e4', type: 'response', key: '1', eventMs: 1, serverMs: T0 + 3400 }),
  // trigger of volume 2 never arrived (missed); volume 3 twice (extra)
  { type: 'trigger', t: T0 + 6000, wallMs: w, seq: 3, volume: 3 },
  { type: 'trigger', t: T0 + 6010, wallMs: w, seq: 4, volume: 3 },
  ev(T0 + 6010, { id: 'e5', type: 'onset', trialIndex: 1, kind: 'null', frameMs: 1, serverMs: T0 + 5998 }),
  { type: 'display_connection', t: T0 + 7000, wallMs: w, connected: false, clientId: 'c1' },
  ev(T0 + 9000, { id: 'e6', type: 'response', key: '2', eventMs: 1, serverMs: T0 + 8000 }),
  { type: 'display_connection', t: T0 + 9500, wallMs: w, connected: true, clientId: 'c2' },
  { type: 'end', t: 5, wallMs: w, state: 'incomplete', reason: 'server stopped' },
];

describe('convertRunLog', () => {
  const c = convertRunLog(records);
  it('writes one row per trial with measured onsets (+ display latency) and planned onsets', () => {
    const trials = c.rows.filter((r) => r.trial_index !== null && r.trial_type !== 'fixation_change');
    expect(trials).toEqual([
      {
        onset: 2.008,
        duration: 1.001,
        trial_type: 'b',
        stim_file: 'orthostim-ffffffffffff/images/b.png',
        planned_onset: 2,
        response_time: null,
        trial_index: 0,
        stim_id: 'b',
        response_key: null,
      },
      {
        onset: 6.003,
        duration: 1,
        trial_type: 'null',
        stim_file: null,
        planned_onset: 6,
        response_time: null,
        trial_index: 1,
        stim_id: null,
        response_key: null,
      },
      // never shown (the display was away): marked missed, planned image kept in stim_id
      {
        onset: 10,
        duration: 1,
        trial_type: 'missed',
        stim_file: null,
        planned_onset: 10,
        response_time: null,
        trial_index: 2,
        stim_id: 'a',
        response_key: null,
      },
    ]);
  });
  it('pairs a fixation change with the first press in its window', () => {
    const fc = c.rows.find((r) => r.trial_type === 'fixation_change')!;
    expect(fc.onset).toBeCloseTo(3.0, 9);
    expect(fc.response_time).toBeCloseTo(0.4, 9); // press at 3.400, change at 2.995 + 0.005
    expect(c.rows.filter((r) => r.trial_type === 'response').map((r) => [r.onset, r.response_key])).toEqual([
      [3.4, '1'],
      [8, '2'],
    ]);
  });
  it('marks faults as rows and sorts by onset', () => {
    const types = c.rows.map((r) => r.trial_type);
    expect(types).toEqual([
      'b',
      'fixation_change',
      'response',
      'null',
      'display_disconnected',
      'response',
      'display_connected',
      'log_ends',
      'missed',
    ]);
    const logEnds = c.rows.find((r) => r.trial_type === 'log_ends')!;
    expect(logEnds.onset).toBe(9.5); // last record before the recovery's end record
    for (let i = 1; i < c.rows.length; i++) expect(c.rows[i]!.onset).toBeGreaterThanOrEqual(c.rows[i - 1]!.onset);
  });
  it('counts triggers, gaps and repeats, and onset errors', () => {
    expect(c.stats.triggers).toBe(4);
    expect(c.stats.missedTriggers).toBe(1);
    expect(c.stats.extraTriggers).toBe(1);
    expect(c.stats.measuredTrS).toBe(2.001);
    expect(c.stats.trialsShown).toEqual([0, 1]);
    expect(c.stats.onsetErrorMs!.values.map((v) => Math.round(v * 1000) / 1000)).toEqual([8, 3]);
    expect(c.stats.onsetErrorMs!.maxAbs).toBeCloseTo(8, 9);
    expect(c.state).toBe('incomplete');
  });
  it('builds a sidecar recording the set hash, status and faults', () => {
    const s = buildEventsSidecar(c, {
      rawLog: 'sourcedata/x_log.jsonl',
      stimulusSetFile: 'stimuli/x/stimulus-set.json',
    }) as Record<string, any>;
    expect(s.Orthostim.StimulusSetSha256).toBe('f'.repeat(64));
    expect(s.Orthostim.runStatus).toBe('incomplete');
    expect(s.Orthostim.complete).toBe(false);
    expect(s.Orthostim.faults.map((f: { type: string }) => f.type)).toEqual([
      'display_disconnected',
      'display_connected',
      'log_ends',
    ]);
    expect(s.trial_type.Levels.a).toMatch(/image a/);
    expect(Object.keys(s)).toEqual(
      expect.arrayContaining([
        'onset',
        'duration',
        'trial_type',
        'stim_file',
        'planned_onset',
        'response_time',
        'StimulusPresentation',
      ]),
    );
  });
});
