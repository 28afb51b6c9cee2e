import { InputError } from './errors';

/**
 * BIDS `_events.tsv` as orthostim writes and reads it (docs/formats/events.md). The session
 * server writes one row per trial (trial_type = image id, or `null` for a null trial), the
 * fixation task's `fixation_change` and `response` rows, and marker rows for faults; `orthostim
 * simulate` writes the trial rows from the same scheduler. Onsets are seconds from time zero (the
 * trigger of the first stored volume); rows are sorted by onset. Missing values are `n/a`.
 */
export const EVENTS_COLUMNS = [
  'onset',
  'duration',
  'trial_type',
  'stim_file',
  'planned_onset',
  'response_time',
  'trial_index',
  'stim_id',
  'response_key',
] as const;
export type EventsColumn = (typeof EVENTS_COLUMNS)[number];

export interface EventsRow {
  onset: number;
  duration: number;
  trial_type: string;
  stim_file: string | null;
  planned_onset: number | null;
  response_time: number | null;
  trial_index: number | null;
  stim_id: string | null;
  response_key: string | null;
}

/** trial_type values other than image ids. */
export const EVENT_TYPES = {
  null: 'null',
  fixationChange: 'fixation_change',
  response: 'response',
  /** A planned trial the display never showed (display reloading, run aborted or cut off). */
  missed: 'missed',
  displayDisconnected: 'display_disconnected',
  displayConnected: 'display_connected',
  runAborted: 'run_aborted',
  /** Last record of a log whose server stopped without closing the run. */
  logEnds: 'log_ends',
} as const;

const NUMERIC: ReadonlySet<EventsColumn> = new Set([
  'onset',
  'duration',
  'planned_onset',
  'response_time',
  'trial_index',
]);

/** Seconds with 0.1 ms resolution, trailing zeros kept off. */
function formatNumber(v: number, column: EventsColumn): string {
  if (column === 'trial_index') return String(v);
  const s = v.toFixed(4);
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

function formatCell(value: unknown, column: EventsColumn): string {
  if (value === null || value === undefined) return 'n/a';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return 'n/a';
    return formatNumber(value, column);
  }
  const s = String(value);
  if (/[\t\n\r]/.test(s))
    throw new InputError(`events.tsv: column ${column}: value ${JSON.stringify(s)} contains a tab or newline`);
  return s;
}

/** Sort by onset (stable, so rows at the same onset keep their order) and format. */
export function formatEventsTsv(rows: readonly EventsRow[]): string {
  const sorted = rows
    .map((r, i) => ({ r, i }))
    .sort((a, b) => a.r.onset - b.r.onset || a.i - b.i)
    .map(({ r }) => r);
  const lines = [EVENTS_COLUMNS.join('\t')];
  for (const row of sorted) lines.push(EVENTS_COLUMNS.map((c) => formatCell(row[c], c)).join('\t'));
  return `${lines.join('\n')}\n`;
}

/**
 * Parse an events.tsv into rows. Needs `onset`, `duration` and `trial_type` columns; the other
 * orthostim columns are optional (n/a when absent); unknown columns are ignored.
 */
export function parseEventsTsv(text: string, source: string): EventsRow[] {
  const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
  const header = (lines[0] ?? '').split('\t');
  for (const need of ['onset', 'duration', 'trial_type']) {
    if (!header.includes(need))
      throw new InputError(`${source}: header must have a "${need}" column; got ${JSON.stringify(header.join(' '))}`);
  }
  const col = new Map(header.map((h, i) => [h, i]));
  return lines.slice(1).map((line, li) => {
    const cells = line.split('\t');
    if (cells.length !== header.length)
      throw new InputError(`${source}: line ${li + 2}: expected ${header.length} cells, got ${cells.length}`);
    const row = {} as Record<EventsColumn, unknown>;
    for (const c of EVENTS_COLUMNS) {
      const i = col.get(c);
      const raw = i === undefined ? 'n/a' : cells[i]!;
      if (raw === 'n/a' || raw === '') {
        row[c] = null;
      } else if (NUMERIC.has(c)) {
        const n = Number(raw);
        if (!Number.isFinite(n))
          throw new InputError(
            `${source}: line ${li + 2}: column ${c}: expected a number or n/a; got ${JSON.stringify(raw)}`,
          );
        row[c] = n;
      } else {
        row[c] = raw;
      }
    }
    if (row.onset === null || row.duration === null || row.trial_type === null) {
      throw new InputError(`${source}: line ${li + 2}: onset, duration and trial_type may not be n/a`);
    }
    return row as unknown as EventsRow;
  });
}

/** Column descriptions for the `_events.json` sidecar (BIDS: a description per column). */
export const EVENTS_COLUMN_DESCRIPTIONS: Record<
  EventsColumn,
  { Description: string; Units?: string; Levels?: Record<string, string> }
> = {
  onset: {
    Description:
      'Actual onset: frame time the change went up, plus displayLatencyMs, from the trigger of the first stored volume',
    Units: 's',
  },
  duration: {
    Description:
      'Actual duration (image offset frame minus onset frame); planned duration for rows without a measured offset',
    Units: 's',
  },
  trial_type: {
    Description: 'Image id from stimulus-set.json for an image trial; otherwise one of the levels below',
    Levels: {
      null: 'null trial: fixation only',
      fixation_change: 'fixation cross changed colour (fixation task)',
      response: 'button press (duration 0)',
      missed: 'planned trial the display did not show (see stim_id for the planned image)',
      display_disconnected: 'the participant display lost its connection',
      display_connected: 'the participant display (re)connected',
      run_aborted: 'the operator aborted the run',
      log_ends: 'last record of a run whose server stopped without closing it',
    },
  },
  stim_file: { Description: "Image shown, relative to the dataset's stimuli/ folder" },
  planned_onset: { Description: 'Onset planned before the run (whole multiple of the TR)', Units: 's' },
  response_time: {
    Description:
      'fixation_change rows: time from the change to the first press within the response window; response rows: n/a',
    Units: 's',
  },
  trial_index: { Description: 'Position of the trial (or fixation change) in the run schedule, from 0' },
  stim_id: { Description: 'Image id planned for the trial (n/a for null trials and non-trial rows)' },
  response_key: { Description: 'Key pressed (response rows)' },
};

/**
 * The column descriptions of an `_events.json` sidecar for a run of these images: every image id
 * becomes a level of trial_type. Shared by the session server and `orthostim simulate`.
 */
export function eventsColumnDescriptions(imageIds: readonly string[]): typeof EVENTS_COLUMN_DESCRIPTIONS {
  const levels = { ...EVENTS_COLUMN_DESCRIPTIONS.trial_type.Levels };
  for (const id of imageIds) levels[id] = `image ${id} of the stimulus set`;
  return { ...EVENTS_COLUMN_DESCRIPTIONS, trial_type: { ...EVENTS_COLUMN_DESCRIPTIONS.trial_type, Levels: levels } };
}

/**
 * The stimulus set an `_events.json` sidecar records: `Orthostim.StimulusSetSha256` and
 * `Orthostim.StimulusSetFile` (since the BIDS validator refused them at the top level, where BIDS
 * expects column descriptions), or the top-level keys of datasets recorded before.
 */
export function recordedStimulusSet(sidecar: Record<string, unknown>): { sha256?: string; file?: string } {
  const own = sidecar.Orthostim;
  const nested = typeof own === 'object' && own !== null ? (own as Record<string, unknown>) : {};
  const pick = (key: string): string | undefined => {
    const v = nested[key] ?? sidecar[key];
    return typeof v === 'string' ? v : undefined;
  };
  const sha256 = pick('StimulusSetSha256');
  const file = pick('StimulusSetFile');
  return { ...(sha256 !== undefined ? { sha256 } : {}), ...(file !== undefined ? { file } : {}) };
}
