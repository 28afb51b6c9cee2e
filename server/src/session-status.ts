import type { DisplayReady, RunLabels, RunSummary, SessionConfig } from '@orthostim/protocol';
import type { DisplayRegistry } from './display-registry';
import { convertRunLog, type RunConversion } from './events-from-log';
import type { RunEntry } from './run-entry';

export interface SessionStatus {
  display: {
    connected: boolean;
    clientId: string | null;
    readyForRun: string | null;
    focused: boolean;
    visible: boolean;
    refreshHz: number | null;
    screen: string | null;
    userAgent: string | null;
    /** Other displays connected: they see nothing and cannot write into a run. */
    secondDisplays: { clientId: string; userAgent: string }[];
    /** Display events refused since the server started because another connection sent them. */
    refusedFromOthers: number;
  };
  trigger: { source: string; kind: string; count: number; lastAgoMs: number | null };
  run: (RunSummary & { live: LiveRunFigures }) | null;
  /** Labels the "arm next run" button uses. */
  nextRun: RunLabels | null;
  runs: string[];
  warnings: string[];
  config: { repetitionTimeS: number; dummyVolumes: number; runs: number; displayLatencyMs: number };
}

export interface LiveRunFigures {
  measuredTrS: number | null;
  trDeviationPct: number | null;
  missedTriggers: number;
  extraTriggers: number;
  currentTrial: number | null;
  onsetErrorMs: { median: number; medianAbs: number; maxAbs: number } | null;
  scannerTimeS: number | null;
  durationS: number;
}

/** What the status is built from (the session's state at one moment). */
export interface StatusInputs {
  config: SessionConfig;
  now: number;
  displays: DisplayRegistry;
  focused: boolean;
  visible: boolean;
  ready: DisplayReady | null;
  trigger: SessionStatus['trigger'];
  /** The current run, or else the last one armed. */
  run: RunEntry | null;
  isCurrent: boolean;
  summaryOf(run: RunEntry, conv: RunConversion): RunSummary;
  nextRun: RunLabels | null;
  runs: string[];
  refused: { count: number; last: string | null };
}

function displayWarnings(i: StatusInputs): string[] {
  const w: string[] = [];
  const connected = i.displays.displayConnected();
  const cfg = i.config;
  if (!connected) w.push('participant display is not connected');
  if (connected && !i.focused)
    w.push('the display window lost focus: keyboard triggers and responses are dropped until it is clicked');
  if (connected && !i.visible) w.push('the display page is hidden (another tab or minimized)');
  const refresh = i.ready?.refreshHz ?? null;
  if (refresh !== null && Math.abs(refresh - cfg.display.refreshRateHz) / cfg.display.refreshRateHz > 0.02)
    w.push(
      `measured refresh rate ${refresh.toFixed(1)} Hz differs from the configured ${cfg.display.refreshRateHz} Hz`,
    );
  const second = i.displays.secondDisplays();
  if (second.length)
    w.push(
      `${second.length} other display page(s) connected (${second.map((c) => c.clientId).join(', ')}): they cannot write into a run; close them, or check who opened the display`,
    );
  if (i.refused.count)
    w.push(`${i.refused.count} display event(s) from other connections refused (last: ${i.refused.last})`);
  return w;
}

function runWarnings(i: StatusInputs, run: RunEntry, conv: RunConversion): string[] {
  const w: string[] = [];
  if (run.storageError)
    w.push(
      `storage fault in run ${run.id}: ${run.storageError}${run.log?.pending ? ` (${run.log.pending} record(s) wait in memory; retried at each record)` : ''}`,
    );
  if (run.state === 'failed') w.push(`run ${run.id} failed: ${run.endReason ?? 'the display reported a failure'}`);
  if (run.refused) w.push(`run ${run.id}: ${run.refused} display event(s) refused (see its raw log)`);
  if (!i.isCurrent) return w;
  const s = conv.stats;
  const tr = conv.header.config.repetitionTimeS;
  const waiting = run.state === 'running' || (run.state === 'armed' && (run.sequenceBegun || s.triggers > 0));
  if (waiting && s.lastTriggerT !== null && i.now - s.lastTriggerT > 2 * tr * 1000)
    w.push(`no trigger for ${((i.now - s.lastTriggerT) / 1000).toFixed(1)} s (more than 2 TRs)`);
  if (s.measuredTrS !== null && Math.abs(((s.measuredTrS - tr) / tr) * 100) > 1)
    w.push(`measured TR ${s.measuredTrS.toFixed(4)} s differs from the configured ${tr} s`);
  if (s.missedTriggers > 0) w.push(`${s.missedTriggers} missed trigger(s)`);
  if (s.extraTriggers > 0) w.push(`${s.extraTriggers} extra trigger(s)`);
  return w;
}

function liveFigures(i: StatusInputs, conv: RunConversion): LiveRunFigures {
  const s = conv.stats;
  const tr = conv.header.config.repetitionTimeS;
  return {
    measuredTrS: s.measuredTrS,
    trDeviationPct: s.measuredTrS === null ? null : ((s.measuredTrS - tr) / tr) * 100,
    missedTriggers: s.missedTriggers,
    extraTriggers: s.extraTriggers,
    currentTrial: s.currentTrial,
    onsetErrorMs: s.onsetErrorMs
      ? { median: s.onsetErrorMs.median, medianAbs: s.onsetErrorMs.medianAbs, maxAbs: s.onsetErrorMs.maxAbs }
      : null,
    scannerTimeS: s.t0 === null || !i.isCurrent ? null : (i.now - s.t0) / 1000,
    durationS: conv.header.schedule.durationS,
  };
}

/** `GET /api/status`: the display, the triggers, the current (or last) run with live figures, and warnings. */
export function buildSessionStatus(i: StatusInputs): SessionStatus {
  const conv = i.run ? convertRunLog(i.run.records) : null;
  const warnings = [...displayWarnings(i), ...(i.run && conv ? runWarnings(i, i.run, conv) : [])];
  const shown = i.displays.display();
  const hello = shown?.hello ?? null;
  return {
    display: {
      connected: shown !== null,
      clientId: shown?.clientId ?? null,
      readyForRun: i.ready?.runId ?? null,
      focused: i.focused,
      visible: i.visible,
      refreshHz: i.ready?.refreshHz ?? null,
      screen: hello ? `${hello.screenWidth}x${hello.screenHeight} @${hello.devicePixelRatio}x` : null,
      userAgent: hello?.userAgent ?? null,
      secondDisplays: i.displays.secondDisplays().map((c) => ({ clientId: c.clientId, userAgent: c.hello.userAgent })),
      refusedFromOthers: i.refused.count,
    },
    trigger: i.trigger,
    run: i.run && conv ? { ...i.summaryOf(i.run, conv), live: liveFigures(i, conv) } : null,
    nextRun: i.nextRun,
    runs: i.runs,
    warnings,
    config: {
      repetitionTimeS: i.config.repetitionTimeS,
      dummyVolumes: i.config.dummyVolumes,
      runs: i.config.runs,
      displayLatencyMs: i.config.displayLatencyMs,
    },
  };
}
