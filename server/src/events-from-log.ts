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
  /** Events of the run's display refused as implausible (off plan, before time zero, out of order). */
  refusedFromDisplay: number;
  /** Events refused because another connection sent them. */
  refusedFromOthers: number;
  /** Failed writes of the raw log (a full disk), as logged once writing worked again. */
  storageFaults: string[];
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

/** What the log's records say, gathered in one pass (display events deduplicated by id). */
interface LogContents {
  t0: number | null;
  triggers: { t: number; volume: number }[];
  events: DisplayEvent[];
  hello: DisplayHello | null;
  ready: DisplayReady | null;
  state: RunState | null;
  faultRecords: { t: number; type: string; detail: string }[];
  refused: { source: 'display' | 'other'; reason: string }[];
  storageFaults: string[];
}

function gatherRecords(header: RunHeaderRecord, records: readonly LogRecord[]): LogContents {
  const c: LogContents = {
    t0: null,
    triggers: [],
    events: [],
    hello: null,
    ready: null,
    state: null,
    faultRecords: [],
    refused: [],
    storageFaults: [],
  };
  const seen = new Set<string>();
  let connections = 0;
  let lastT = header.t;
  let recoveredEnd = false;
  for (const r of records) {
    if (r.type !== 'end') lastT = Math.max(lastT, r.t);
    if (r.type === 'trigger') c.triggers.push({ t: r.t, volume: r.volume });
    else if (r.type === 'time_zero') c.t0 = r.t;
    else if (r.type === 'display' && !seen.has(r.event.id)) {
      seen.add(r.event.id);
      c.events.push(r.event);
    } else if (r.type === 'display_hello') c.hello = r.hello;
    else if (r.type === 'display_ready') c.ready = r.ready;
    else if (r.type === 'display_connection') {
      const again = r.connected && connections++ > 0;
      if (again || !r.connected)
        c.faultRecords.push({
          t: r.t,
          type: r.connected ? EVENT_TYPES.displayConnected : EVENT_TYPES.displayDisconnected,
          detail: `display ${r.clientId ?? ''} ${r.connected ? 'connected again' : 'disconnected'}`,
        });
    } else if (r.type === 'state') {
      c.state = r.state;
      if (r.state === 'aborted') c.faultRecords.push({ t: r.t, type: EVENT_TYPES.runAborted, detail: r.reason });
    } else if (r.type === 'end') {
      c.state = r.state;
      if (r.state === 'incomplete') recoveredEnd = true;
    } else if (r.type === 'refused') c.refused.push({ source: r.source, reason: r.reason });
    else if (r.type === 'storage_fault') c.storageFaults.push(r.detail);
  }
  if (recoveredEnd)
    c.faultRecords.push({
      t: lastT,
      type: EVENT_TYPES.logEnds,
      detail: 'the server stopped without closing the run; this is the last record it logged',
    });
  return c;
}

type OnsetEvent = Extract<DisplayEvent, { type: 'onset' }>;
type OffsetEvent = Extract<DisplayEvent, { type: 'offset' }>;
type ChangeEvent = Extract<DisplayEvent, { type: 'fixation_change' }>;
type ResponseEvent = Extract<DisplayEvent, { type: 'response' }>;

/** The display's events by kind; the first onset, offset and change of an index wins. */
function indexDisplayEvents(events: readonly DisplayEvent[]) {
  const onsets = new Map<number, OnsetEvent>();
  const offsets = new Map<number, OffsetEvent>();
  const changes = new Map<number, ChangeEvent>();
  const responses: ResponseEvent[] = [];
  let displayComplete = false;
  for (const e of events) {
    if (e.type === 'onset' && !onsets.has(e.trialIndex)) onsets.set(e.trialIndex, e);
    else if (e.type === 'offset' && !offsets.has(e.trialIndex)) offsets.set(e.trialIndex, e);
    else if (e.type === 'fixation_change' && !changes.has(e.changeIndex)) changes.set(e.changeIndex, e);
    else if (e.type === 'response') responses.push(e);
    else if (e.type === 'complete') displayComplete = true;
  }
  return { onsets, offsets, changes, responses, displayComplete };
}

type ToScanner = (serverMs: number) => number | null;

function eventRow(onset: number, trialType: string, fields: Partial<EventsRow> = {}): EventsRow {
  return {
    onset,
    duration: 0,
    trial_type: trialType,
    stim_file: null,
    planned_onset: null,
    response_time: null,
    trial_index: null,
    stim_id: null,
    response_key: null,
    ...fields,
  };
}

/** One row per planned trial: shown (measured onset and duration) or `missed`; and the onset errors, ms. */
function trialRows(
  header: RunHeaderRecord,
  shown: ReturnType<typeof indexDisplayEvents>,
  toScanner: ToScanner,
): { rows: EventsRow[]; errors: number[] } {
  const rows: EventsRow[] = [];
  const errors: number[] = [];
  for (const trial of header.schedule.trials) {
    const on = shown.onsets.get(trial.index);
    const onsetS = on ? toScanner(on.serverMs + header.config.displayLatencyMs) : null;
    const planned = { planned_onset: trial.onsetS, trial_index: trial.index, stim_id: trial.imageId };
    if (on && onsetS !== null) {
      const off = shown.offsets.get(trial.index);
      errors.push((onsetS - trial.onsetS) * 1000);
      rows.push(
        eventRow(onsetS, trial.imageId ?? EVENT_TYPES.null, {
          ...planned,
          duration: off ? (off.serverMs - on.serverMs) / 1000 : trial.durationS,
          stim_file: trial.imageIndex === null ? null : (header.stimFiles[trial.imageIndex] ?? null),
        }),
      );
    } else rows.push(eventRow(trial.onsetS, EVENT_TYPES.missed, { ...planned, duration: trial.durationS }));
  }
  return { rows, errors };
}

/** Responses in scanner time, and a row per fixation change shown (with the response time of its first press). */
function fixationAndResponseRows(
  header: RunHeaderRecord,
  shown: ReturnType<typeof indexDisplayEvents>,
  toScanner: ToScanner,
): { rows: EventsRow[]; hits: number } {
  const responseOnsets = shown.responses
    .map((r) => ({ r, onset: toScanner(r.serverMs) }))
    .filter((x): x is { r: ResponseEvent; onset: number } => x.onset !== null)
    .sort((a, b) => a.onset - b.onset);
  const rows: EventsRow[] = [];
  let hits = 0;
  for (const change of header.schedule.fixationChanges) {
    const seen = shown.changes.get(change.index);
    const onsetS = seen ? toScanner(seen.serverMs + header.config.displayLatencyMs) : null;
    if (onsetS === null) continue;
    const window = header.config.fixation.responseWindowS;
    const press = responseOnsets.find((x) => x.onset >= onsetS && x.onset <= onsetS + window);
    if (press) hits++;
    rows.push(
      eventRow(onsetS, EVENT_TYPES.fixationChange, {
        duration: change.durationS,
        planned_onset: change.onsetS,
        response_time: press ? press.onset - onsetS : null,
        trial_index: change.index,
      }),
    );
  }
  for (const { r, onset } of responseOnsets) rows.push(eventRow(onset, EVENT_TYPES.response, { response_key: r.key }));
  return { rows, hits };
}

function triggerStats(triggers: readonly { t: number; volume: number }[]) {
  const volumes = triggers.filter((x) => x.volume >= 0);
  const distinct = new Set(volumes.map((x) => x.volume));
  const maxVolume = volumes.length ? Math.max(...volumes.map((x) => x.volume)) : -1;
  const intervals: number[] = [];
  for (let i = 1; i < volumes.length; i++) {
    if (volumes[i]!.volume === volumes[i - 1]!.volume + 1) intervals.push(volumes[i]!.t - volumes[i - 1]!.t);
  }
  return {
    triggers: triggers.length,
    missedTriggers: maxVolume >= 0 ? maxVolume + 1 - distinct.size : 0,
    extraTriggers: volumes.length - distinct.size,
    measuredTrS: intervals.length ? median(intervals) / 1000 : null,
    lastTriggerT: triggers.length ? triggers[triggers.length - 1]!.t : null,
  };
}

function onsetErrorStats(errors: number[]): RunStats['onsetErrorMs'] {
  if (!errors.length) return null;
  const abs = errors.map(Math.abs);
  return { median: median(errors), medianAbs: median(abs), maxAbs: Math.max(...abs), n: errors.length, values: errors };
}

export function convertRunLog(records: readonly LogRecord[]): RunConversion {
  const header = records[0];
  if (!header || header.type !== 'run') throw new Error('convertRunLog: the first record must be the run header');
  const c = gatherRecords(header, records);
  const toScanner: ToScanner = (serverMs) => (c.t0 === null ? null : (serverMs - c.t0) / 1000);
  const shown = indexDisplayEvents(c.events);
  const trials = trialRows(header, shown, toScanner);
  const fixation = fixationAndResponseRows(header, shown, toScanner);
  const faults: Fault[] = c.faultRecords.map((f) => ({ type: f.type, onsetS: toScanner(f.t), detail: f.detail }));
  const faultRows = faults.flatMap((f) => (f.onsetS === null ? [] : [eventRow(f.onsetS, f.type)]));
  const rows = [...trials.rows, ...fixation.rows, ...faultRows].sort((a, b) => a.onset - b.onset);
  const shownTrials = [...shown.onsets.keys()].sort((a, b) => a - b);
  const stats: RunStats = {
    ...triggerStats(c.triggers),
    t0: c.t0,
    trialsPlanned: header.schedule.trials.length,
    trialsShown: shownTrials,
    currentTrial: shownTrials.length ? shownTrials[shownTrials.length - 1]! : null,
    responses: shown.responses.length,
    fixationChanges: shown.changes.size,
    fixationHits: fixation.hits,
    onsetErrorMs: onsetErrorStats(trials.errors),
    displayComplete: shown.displayComplete,
    refusedFromDisplay: c.refused.filter((r) => r.source === 'display').length,
    refusedFromOthers: c.refused.filter((r) => r.source === 'other').length,
    storageFaults: c.storageFaults,
  };
  return { header, rows, state: c.state, stats, faults, hello: c.hello, ready: c.ready };
}

/**
 * Complete: finished, every trial shown, nothing of the display's refused as implausible, and the
 * log written without a storage fault.
 */
export function runIsComplete(c: RunConversion): boolean {
  const s = c.stats;
  return (
    c.state === 'finished' &&
    s.trialsShown.length === s.trialsPlanned &&
    s.refusedFromDisplay === 0 &&
    s.storageFaults.length === 0
  );
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
    Orthostim: {
      StimulusSetSha256: header.stimulusSet.sha256,
      StimulusSetFile: extra.stimulusSetFile,
      runStatus: c.state,
      complete: runIsComplete(c),
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
      refusedEvents: { fromDisplay: stats.refusedFromDisplay, fromOtherConnections: stats.refusedFromOthers },
      storageFaults: stats.storageFaults,
      rawLog: extra.rawLog,
      config: header.config,
    },
  };
}
