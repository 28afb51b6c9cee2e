import {
  EVENT_TYPES,
  eventsColumnDescriptions,
  type DisplayEvent,
  type DisplayHello,
  type DisplayReady,
  type EventsRow,
  type RunState,
} from '@orthostim/protocol';
import type { LogRecord, RunHeaderRecord } from './log-records';

/**
 * Raw run log -> BIDS events rows, run statistics and the events.json sidecar. Pure: the same
 * function gives the operator page its live figures (on the records so far) and writes the
 * events file at the end of a run, or from the log of an interrupted run after a restart.
 */
export interface RunStats {
  triggers: number;
  /** Triggers the scanner must have sent that never arrived (gaps in the volume numbers). */
  missedTriggers: number;
  /** Triggers numbered with a volume already seen (noise on the line, a double key press). */
  extraTriggers: number;
  /** Median interval between triggers of consecutive volumes, s. */
  measuredTrS: number | null;
  lastTriggerT: number | null;
  t0: number | null;
  trialsPlanned: number;
  trialsShown: number[];
  currentTrial: number | null;
  responses: number;
  fixationChanges: number;
  fixationHits: number;
  /** actual - planned onset over shown trials, ms. */
  onsetErrorMs: { median: number; maxAbs: number; medianAbs: number; n: number; values: number[] } | null;
  displayComplete: boolean;
}

export interface Fault {
  type: string;
  /** Scanner time of the fault, s (null before time zero). */
  onsetS: number | null;
  detail: string;
}

export interface RunConversion {
  header: RunHeaderRecord;
  rows: EventsRow[];
  state: RunState | null;
  stats: RunStats;
  faults: Fault[];
  hello: DisplayHello | null;
  ready: DisplayReady | null;
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function convertRunLog(records: readonly LogRecord[]): RunConversion {
  const header = records[0];
  if (!header || header.type !== 'run') throw new Error('convertRunLog: the first record must be the run header');
  const { schedule, config } = header;
  const latency = config.displayLatencyMs;
  const seen = new Set<string>();
  const events: DisplayEvent[] = [];
  let t0: number | null = null;
  const triggers: { t: number; volume: number }[] = [];
  let hello: DisplayHello | null = null;
  let ready: DisplayReady | null = null;
  let state: RunState | null = null;
  const faultRecords: { t: number; type: string; detail: string }[] = [];
  let connections = 0;
  let lastT = header.t;
  let recoveredEnd = false;
  for (const r of records) {
    if (r.type !== 'end') lastT = Math.max(lastT, r.t);
    switch (r.type) {
      case 'trigger':
        triggers.push({ t: r.t, volume: r.volume });
        break;
      case 'time_zero':
        t0 = r.t;
        break;
      case 'display':
        if (!seen.has(r.event.id)) {
          seen.add(r.event.id);
          events.push(r.event);
        }
        break;
      case 'display_hello':
        hello = r.hello;
        break;
      case 'display_ready':
        ready = r.ready;
        break;
      case 'display_connection':
        if (r.connected) {
          if (connections++ > 0)
            faultRecords.push({
              t: r.t,
              type: EVENT_TYPES.displayConnected,
              detail: `display ${r.clientId ?? ''} connected again`,
            });
        } else
          faultRecords.push({
            t: r.t,
            type: EVENT_TYPES.displayDisconnected,
            detail: `display ${r.clientId ?? ''} disconnected`,
          });
        break;
      case 'state':
        state = r.state;
        if (r.state === 'aborted') faultRecords.push({ t: r.t, type: EVENT_TYPES.runAborted, detail: r.reason });
        break;
      case 'end':
        state = r.state;
        if (r.state === 'incomplete') recoveredEnd = true;
        break;
    }
  }
  if (recoveredEnd)
    faultRecords.push({
      t: lastT,
      type: EVENT_TYPES.logEnds,
      detail: 'the server stopped without closing the run; this is the last record it logged',
    });
  const toScanner = (serverMs: number) => (t0 === null ? null : (serverMs - t0) / 1000);

  // Triggers: volumes numbered by the server; count gaps and repeats.
  const volumes = triggers.filter((x) => x.volume >= 0);
  const distinct = new Set(volumes.map((x) => x.volume));
  const maxVolume = volumes.length ? Math.max(...volumes.map((x) => x.volume)) : -1;
  const intervals: number[] = [];
  for (let i = 1; i < volumes.length; i++) {
    if (volumes[i]!.volume === volumes[i - 1]!.volume + 1) intervals.push(volumes[i]!.t - volumes[i - 1]!.t);
  }

  const onsets = new Map<number, Extract<DisplayEvent, { type: 'onset' }>>();
  const offsets = new Map<number, Extract<DisplayEvent, { type: 'offset' }>>();
  const changes = new Map<number, Extract<DisplayEvent, { type: 'fixation_change' }>>();
  const responses: Extract<DisplayEvent, { type: 'response' }>[] = [];
  let displayComplete = false;
  for (const e of events) {
    if (e.type === 'onset' && !onsets.has(e.trialIndex)) onsets.set(e.trialIndex, e);
    else if (e.type === 'offset' && !offsets.has(e.trialIndex)) offsets.set(e.trialIndex, e);
    else if (e.type === 'fixation_change' && !changes.has(e.changeIndex)) changes.set(e.changeIndex, e);
    else if (e.type === 'response') responses.push(e);
    else if (e.type === 'complete') displayComplete = true;
  }

  const rows: EventsRow[] = [];
  const errors: number[] = [];
  for (const trial of schedule.trials) {
    const on = onsets.get(trial.index);
    const onsetS = on ? toScanner(on.serverMs + latency) : null;
    if (on && onsetS !== null) {
      const off = offsets.get(trial.index);
      errors.push((onsetS - trial.onsetS) * 1000);
      rows.push({
        onset: onsetS,
        duration: off ? (off.serverMs - on.serverMs) / 1000 : trial.durationS,
        trial_type: trial.imageId ?? EVENT_TYPES.null,
        stim_file: trial.imageIndex === null ? null : (header.stimFiles[trial.imageIndex] ?? null),
        planned_onset: trial.onsetS,
        response_time: null,
        trial_index: trial.index,
        stim_id: trial.imageId,
        response_key: null,
      });
    } else {
      rows.push({
        onset: trial.onsetS,
        duration: trial.durationS,
        trial_type: EVENT_TYPES.missed,
        stim_file: null,
        planned_onset: trial.onsetS,
        response_time: null,
        trial_index: trial.index,
        stim_id: trial.imageId,
        response_key: null,
      });
    }
  }
  const responseOnsets = responses
    .map((r) => ({ r, onset: toScanner(r.serverMs) }))
    .filter((x): x is { r: (typeof responses)[number]; onset: number } => x.onset !== null)
    .sort((a, b) => a.onset - b.onset);
  let hits = 0;
  for (const change of schedule.fixationChanges) {
    const shown = changes.get(change.index);
    const onsetS = shown ? toScanner(shown.serverMs + latency) : null;
    if (onsetS === null) continue;
    const press = responseOnsets.find((x) => x.onset >= onsetS && x.onset <= onsetS + config.fixation.responseWindowS);
    if (press) hits++;
    rows.push({
      onset: onsetS,
      duration: change.durationS,
      trial_type: EVENT_TYPES.fixationChange,
      stim_file: null,
      planned_onset: change.onsetS,
      response_time: press ? press.onset - onsetS : null,
      trial_index: change.index,
      stim_id: null,
      response_key: null,
    });
  }
  for (const { r, onset } of responseOnsets) {
    rows.push({
      onset,
      duration: 0,
      trial_type: EVENT_TYPES.response,
      stim_file: null,
      planned_onset: null,
      response_time: null,
      trial_index: null,
      stim_id: null,
      response_key: r.key,
    });
  }
  const faults: Fault[] = faultRecords.map((f) => ({ type: f.type, onsetS: toScanner(f.t), detail: f.detail }));
  for (const f of faults) {
    if (f.onsetS === null) continue;
    rows.push({
      onset: f.onsetS,
      duration: 0,
      trial_type: f.type,
      stim_file: null,
      planned_onset: null,
      response_time: null,
      trial_index: null,
      stim_id: null,
      response_key: null,
    });
  }
  rows.sort((a, b) => a.onset - b.onset);

  const shown = [...onsets.keys()].sort((a, b) => a - b);
  const abs = errors.map(Math.abs);
  const stats: RunStats = {
    triggers: triggers.length,
    missedTriggers: maxVolume >= 0 ? maxVolume + 1 - distinct.size : 0,
    extraTriggers: volumes.length - distinct.size,
    measuredTrS: intervals.length ? median(intervals) / 1000 : null,
    lastTriggerT: triggers.length ? triggers[triggers.length - 1]!.t : null,
    t0,
    trialsPlanned: schedule.trials.length,
    trialsShown: shown,
    currentTrial: shown.length ? shown[shown.length - 1]! : null,
    responses: responses.length,
    fixationChanges: changes.size,
    fixationHits: hits,
    onsetErrorMs: errors.length
      ? { median: median(errors), medianAbs: median(abs), maxAbs: Math.max(...abs), n: errors.length, values: errors }
      : null,
    displayComplete,
  };
  return { header, rows, state, stats, faults, hello, ready };
}

/** The `_events.json` sidecar: column descriptions, StimulusPresentation and the run's record. */
export function buildEventsSidecar(
  c: RunConversion,
  extra: { rawLog: string; stimulusSetFile: string },
): Record<string, unknown> {
  const { header, stats } = c;
  const display = header.config.display;
  return {
    ...eventsColumnDescriptions(header.stimulusSet.imageIds),
    StimulusPresentation: {
      SoftwareName: 'orthostim (jsPsych 8)',
      SoftwareVersion: header.orthostim,
      OperatingSystem: c.hello?.userAgent ?? 'n/a',
      ScreenDistance: display.viewingDistanceCm / 100,
      ScreenSize: [
        display.screenWidthCm / 100,
        c.hello ? (display.screenWidthCm / 100) * (c.hello.screenHeight / c.hello.screenWidth) : null,
      ],
      ScreenResolution: c.hello ? [c.hello.screenWidth, c.hello.screenHeight] : null,
      ScreenRefreshRate: c.ready?.refreshHz ?? null,
      HeadStabilization: 'n/a',
    },
    StimulusSetSha256: header.stimulusSet.sha256,
    StimulusSetFile: extra.stimulusSetFile,
    Orthostim: {
      runStatus: c.state,
      complete: c.state === 'finished' && stats.trialsShown.length === stats.trialsPlanned,
      seed: header.seed,
      ...(header.schedule.imageSequence ? { imageSequence: header.schedule.imageSequence } : {}),
      repetitionTimeS: header.config.repetitionTimeS,
      dummyVolumes: header.config.dummyVolumes,
      displayLatencyMs: header.config.displayLatencyMs,
      triggerSource: header.triggerSource,
      triggers: stats.triggers,
      missedTriggers: stats.missedTriggers,
      extraTriggers: stats.extraTriggers,
      measuredRepetitionTimeS: stats.measuredTrS,
      trialsPlanned: stats.trialsPlanned,
      trialsShown: stats.trialsShown.length,
      onsetErrorMs: stats.onsetErrorMs
        ? {
            median: stats.onsetErrorMs.median,
            medianAbs: stats.onsetErrorMs.medianAbs,
            maxAbs: stats.onsetErrorMs.maxAbs,
          }
        : null,
      responses: stats.responses,
      fixationChanges: stats.fixationChanges,
      fixationHits: stats.fixationHits,
      faults: c.faults,
      rawLog: extra.rawLog,
      config: header.config,
    },
  };
}
