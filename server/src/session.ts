import { randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  InputError,
  buildRunSchedule,
  displayEventSchema,
  runSeed,
  volumeAt,
  type DisplayEvent,
  type DisplayHello,
  type DisplayReady,
  type RunAnnouncement,
  type RunLabels,
  type RunState,
  type RunSummary,
  type SessionConfig,
  type TriggerMessage,
} from '@orthostim/protocol';
import type { LoadedStimulusSet } from '@orthostim/protocol/node';
import type { Clock, TimerHandle } from './clock';
import {
  copyStimulusSet,
  ensureDataset,
  listRunLogs,
  normalizeRunLabels,
  runPaths,
  runPrefix,
  writeRunEvents,
} from './bids-dataset';
import { buildEventsSidecar, convertRunLog, type RunConversion } from './events-from-log';
import { imageSequencePlan } from './image-sequence-plan';
import type { LogRecord, RunHeaderRecord } from './log-records';
import { RunLogWriter, readRunLog } from './run-log';
import type { RelayedTriggerSource, TriggerSource } from './triggers';

/** How the session reaches the participant display (socket.io in the server; a recorder in tests). */
export interface DisplayChannel {
  announce(run: RunAnnouncement): void;
  trigger(message: TriggerMessage): void;
  ended(message: { runId: string; state: RunState }): void;
}

export interface SessionOptions {
  dataDir: string;
  stimuli: LoadedStimulusSet;
  config: SessionConfig;
  clock: Clock;
  triggerSource: TriggerSource;
  display: DisplayChannel;
  /** URL the display loads image `index` of the set from. */
  imageUrl(index: number): string;
  version: string;
  /** fdatasync the raw log at each record (default true). */
  fsync?: boolean;
  /** Wait this long past the end of the last volume for the display's last events (ms, default 10 s). */
  finishGraceMs?: number;
}

interface RunEntry {
  id: string;
  labels: RunLabels;
  state: RunState;
  records: LogRecord[];
  log: RunLogWriter | null;
  rawLog: string;
  eventsFile: string | null;
  seenEventIds: Set<string>;
  /** Triggers since arming, dummies included (their volume numbers come from this count). */
  triggerCount: number;
  sequenceBegun: boolean;
  finishTimer: TimerHandle | null;
  finishDeadline: number | null;
}

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

/**
 * One scanner session: arms runs, numbers and relays triggers, logs everything the display
 * reports, and writes each run's BIDS events when it finishes, is aborted, or (after a restart)
 * is found interrupted. All time comes from the injected clock; all I/O is the run log and the
 * dataset folder.
 */
export class Session {
  private runs = new Map<string, RunEntry>();
  private current: RunEntry | null = null;
  private lastRunLabels: RunLabels | null = null;
  private triggerSeq = 0;
  private lastTriggerMs: number | null = null;
  private displayClientId: string | null = null;
  private displayConnected = false;
  private displayHello: DisplayHello | null = null;
  private displayReady: DisplayReady | null = null;
  private focused = true;
  private visible = true;
  private stimFiles: string[] = [];
  private setFile = '';
  private stimulusCopy = '';
  readonly recovered: { id: string; eventsFile: string | null; error: string | null }[] = [];

  constructor(private readonly o: SessionOptions) {}

  /** Prepare the dataset, copy the stimulus set, close runs a killed server left open, start triggers. */
  async start(): Promise<void> {
    ensureDataset(this.o.dataDir, this.o.version);
    const copy = copyStimulusSet(this.o.dataDir, this.o.stimuli);
    this.stimFiles = copy.stimFiles;
    this.setFile = copy.setFile;
    this.stimulusCopy = copy.folder;
    this.loadPreviousRuns();
    await this.o.triggerSource.start((t) => this.onTrigger(t));
  }

  async stop(): Promise<void> {
    if (this.current) this.closeRun(this.current, 'incomplete', 'the server was stopped during the run');
    await this.o.triggerSource.stop();
  }

  private now(): number {
    return this.o.clock.now();
  }

  private record(run: RunEntry, r: LogRecord): void {
    run.records.push(r);
    run.log?.append(r);
  }

  private stamp(): { t: number; wallMs: number } {
    return { t: this.now(), wallMs: Date.now() };
  }

  /** Runs found in the dataset's raw logs. A log without an `end` record was interrupted: close it now. */
  private loadPreviousRuns(): void {
    for (const path of listRunLogs(this.o.dataDir)) {
      let records: LogRecord[];
      try {
        records = readRunLog(path);
      } catch (err) {
        this.recovered.push({ id: path, eventsFile: null, error: (err as Error).message });
        continue;
      }
      const header = records[0] as RunHeaderRecord;
      const last = records[records.length - 1]!;
      const entry: RunEntry = {
        id: header.runId,
        labels: header.labels,
        state: last.type === 'end' ? last.state : 'incomplete',
        records,
        log: null,
        rawLog: path,
        eventsFile: existsSync(join(this.o.dataDir, header.eventsFile))
          ? join(this.o.dataDir, header.eventsFile)
          : null,
        seenEventIds: new Set(),
        triggerCount: 0,
        sequenceBegun: false,
        finishTimer: null,
        finishDeadline: null,
      };
      this.runs.set(entry.id, entry);
      this.lastRunLabels = header.labels;
      if (last.type !== 'end') {
        entry.log = new RunLogWriter(path, this.o.fsync ?? true, 'append');
        try {
          this.closeRun(entry, 'incomplete', 'the server stopped during the run (found on restart)');
          this.recovered.push({ id: entry.id, eventsFile: entry.eventsFile, error: null });
        } catch (err) {
          this.recovered.push({ id: entry.id, eventsFile: null, error: (err as Error).message });
        }
      }
    }
  }

  /** `POST /api/runs`. Throws InputError (-> 400) for bad labels, a busy session or an existing run. */
  arm(request: { participant: unknown; session?: unknown; task?: unknown; run: unknown; seed?: number }): RunSummary {
    const labels = normalizeRunLabels(request);
    if (this.current)
      throw new InputError(`run ${this.current.id} is ${this.current.state}; abort it before arming another`);
    const id = runPrefix(labels);
    const paths = runPaths(labels);
    for (const p of [paths.events, paths.rawLog]) {
      if (existsSync(join(this.o.dataDir, p)) || this.runs.has(id))
        throw new InputError(`run ${id} already exists (${p}); arm the next run index`);
    }
    const cfg = this.o.config;
    const seed = request.seed ?? (cfg.seed !== undefined ? runSeed(cfg.seed, labels.run) : randomInt(0, 2 ** 32 - 1));
    const ids = this.o.stimuli.set.images.map((img) => img.id);
    const headers = [...this.runs.values()].map((r) => r.records[0] as RunHeaderRecord);
    const plan = cfg.imageTrialsPerRun !== undefined ? imageSequencePlan(labels, cfg, headers) : undefined;
    const schedule = buildRunSchedule(ids, cfg, seed, plan);
    const rawLog = join(this.o.dataDir, paths.rawLog);
    const log = new RunLogWriter(rawLog, this.o.fsync ?? true);
    const run: RunEntry = {
      id,
      labels,
      state: 'armed',
      records: [],
      log,
      rawLog,
      eventsFile: null,
      seenEventIds: new Set(),
      triggerCount: 0,
      sequenceBegun: false,
      finishTimer: null,
      finishDeadline: null,
    };
    this.record(run, {
      type: 'run',
      ...this.stamp(),
      runId: id,
      labels,
      seed,
      config: cfg,
      schedule,
      stimulusSet: { sha256: this.o.stimuli.set.sha256, imageIds: ids, copiedTo: this.setFile },
      stimFiles: this.stimFiles,
      triggerSource: this.o.triggerSource.description,
      orthostim: this.o.version,
      eventsFile: paths.events,
    });
    if (this.displayHello) this.record(run, { type: 'display_hello', ...this.stamp(), hello: this.displayHello });
    this.record(run, {
      type: 'display_connection',
      ...this.stamp(),
      connected: this.displayConnected,
      clientId: this.displayClientId,
    });
    this.runs.set(id, run);
    this.current = run;
    this.lastRunLabels = labels;
    this.displayReady = null;
    this.o.display.announce(this.announcement(run));
    return this.summary(id)!;
  }

  announcement(run: RunEntry): RunAnnouncement {
    const header = run.records[0] as RunHeaderRecord;
    const conv = convertRunLog(run.records);
    const t0 = conv.stats.t0;
    return {
      runId: run.id,
      ...run.labels,
      state: run.state,
      schedule: header.schedule,
      images: this.o.stimuli.set.images.map((img, i) => ({ id: img.id, url: this.o.imageUrl(i) })),
      config: header.config,
      triggers:
        t0 === null
          ? []
          : run.records.flatMap((r) =>
              r.type === 'trigger' && r.volume >= 0 ? [{ volume: r.volume, serverMs: r.t }] : [],
            ),
      trialsShown: conv.stats.trialsShown,
    };
  }

  /** A trigger arrived (or a relaying source measured one) at `serverMs`. */
  private onTrigger(serverMs: number): void {
    const seq = ++this.triggerSeq;
    this.lastTriggerMs = serverMs;
    const run = this.current;
    let volume: number | null = null;
    if (run) {
      const cfg = (run.records[0] as RunHeaderRecord).config;
      const t0 = convertT0(run);
      run.triggerCount++;
      volume = t0 === null ? run.triggerCount - 1 - cfg.dummyVolumes : volumeAt(serverMs, t0, cfg.repetitionTimeS);
    }
    // Relay first: the display is waiting for it; the log write (with fsync) comes after.
    this.o.display.trigger({ runId: run?.id ?? null, seq, volume, serverMs });
    if (!run || volume === null) return;
    this.record(run, { type: 'trigger', t: serverMs, wallMs: Date.now(), seq, volume });
    if (volume === 0 && run.state === 'armed') {
      this.record(run, { type: 'time_zero', t: serverMs, wallMs: Date.now(), seq });
      this.setState(run, 'running', 'trigger of the first stored volume');
      const header = run.records[0] as RunHeaderRecord;
      const endMs = serverMs + header.schedule.durationS * 1000;
      run.finishDeadline = endMs + (this.o.finishGraceMs ?? 10_000);
      run.finishTimer = this.o.clock.setTimer(endMs - this.now() + (header.config.repetitionTimeS * 1000) / 2, () =>
        this.checkFinished(run),
      );
    }
  }

  private checkFinished(run: RunEntry): void {
    run.finishTimer = null;
    if (this.current !== run) return;
    const done = convertRunLog(run.records).stats.displayComplete;
    if (done || !this.displayConnected || this.now() >= (run.finishDeadline ?? 0)) {
      this.closeRun(
        run,
        'finished',
        done
          ? 'all trials shown and the last volume acquired'
          : 'the run time is over (the display did not report completion)',
      );
    } else {
      run.finishTimer = this.o.clock.setTimer(100, () => this.checkFinished(run));
    }
  }

  private setState(run: RunEntry, state: RunState, reason: string): void {
    run.state = state;
    this.record(run, { type: 'state', ...this.stamp(), state, reason });
  }

  /** End a run: log `end`, write its events files, stop the emulated scanner. */
  private closeRun(run: RunEntry, state: 'finished' | 'aborted' | 'incomplete', reason: string): void {
    run.finishTimer?.cancel();
    run.finishTimer = null;
    if (state === 'aborted') this.setState(run, 'aborted', reason);
    run.state = state;
    this.record(run, { type: 'end', ...this.stamp(), state, reason });
    run.log?.close();
    run.log = null;
    if (this.current === run) {
      this.current = null;
      this.o.triggerSource.endSequence?.();
      this.o.display.ended({ runId: run.id, state });
    }
    run.eventsFile = this.writeEvents(run);
  }

  private writeEvents(run: RunEntry): string {
    const conv = convertRunLog(run.records);
    const header = conv.header;
    const sidecar = buildEventsSidecar(conv, {
      rawLog: runPaths(header.labels).rawLog.split('\\').join('/'),
      stimulusSetFile: header.stimulusSet.copiedTo,
    });
    return writeRunEvents(this.o.dataDir, header.labels, conv.rows, sidecar);
  }

  abort(id: string): RunSummary {
    const run = this.runs.get(id);
    if (!run) throw new NotFoundError(`no run with id ${JSON.stringify(id)}`);
    if (run !== this.current)
      throw new InputError(`run ${id} is ${run.state}; only an armed or running run can be aborted`);
    this.closeRun(run, 'aborted', 'aborted by the operator');
    return this.summary(id)!;
  }

  displayConnectedEvent(clientId: string, hello: DisplayHello): void {
    this.displayConnected = true;
    this.displayClientId = clientId;
    this.displayHello = hello;
    this.focused = true;
    this.visible = true;
    const run = this.current;
    if (run) {
      this.record(run, { type: 'display_connection', ...this.stamp(), connected: true, clientId });
      this.record(run, { type: 'display_hello', ...this.stamp(), hello });
      this.o.display.announce(this.announcement(run));
    }
  }

  displayDisconnectedEvent(clientId: string): void {
    if (clientId !== this.displayClientId) return;
    this.displayConnected = false;
    this.displayReady = null;
    if (this.current)
      this.record(this.current, { type: 'display_connection', ...this.stamp(), connected: false, clientId });
  }

  displayReadyEvent(ready: DisplayReady): void {
    const run = this.current;
    if (!run || ready.runId !== run.id) return;
    this.displayReady = ready;
    this.record(run, { type: 'display_ready', ...this.stamp(), ready });
    if (!run.sequenceBegun && this.o.triggerSource.beginSequence) {
      run.sequenceBegun = true;
      const header = run.records[0] as RunHeaderRecord;
      this.o.triggerSource.beginSequence(header.config.dummyVolumes + header.schedule.totalVolumes);
    }
  }

  /**
   * Events from the display, each validated; returns the ids now stored (so the display can drop
   * them from its resend buffer). Duplicates (resent after a reconnect) are acknowledged, not logged
   * twice; events for runs that are over are acknowledged and dropped.
   */
  displayEvents(raw: readonly unknown[]): { stored: string[]; rejected: string[] } {
    const stored: string[] = [];
    const rejected: string[] = [];
    for (const item of raw) {
      const parsed = displayEventSchema.safeParse(item);
      if (!parsed.success) {
        rejected.push(
          `${parsed.error.issues[0]?.path.join('.') ?? ''}: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
        );
        continue;
      }
      const e: DisplayEvent = parsed.data;
      stored.push(e.id);
      if (e.type === 'focus') {
        this.focused = e.focused;
        this.visible = e.visible;
      }
      const run = this.current;
      if (!run || e.runId !== run.id || run.seenEventIds.has(e.id)) {
        // A key trigger belongs to whatever is armed now, even if sent before the display knew of it.
        if (e.type === 'key_trigger' && run && !run.seenEventIds.has(e.id) && e.runId === null) {
          run.seenEventIds.add(e.id);
          this.relayKeyTrigger(e.serverMs);
        }
        continue;
      }
      run.seenEventIds.add(e.id);
      this.record(run, { type: 'display', ...this.stamp(), event: e });
      if (e.type === 'key_trigger') this.relayKeyTrigger(e.serverMs);
    }
    return { stored, rejected };
  }

  private relayKeyTrigger(serverMs: number): void {
    if (this.o.triggerSource.kind === 'keyboard') (this.o.triggerSource as RelayedTriggerSource).push(serverMs);
  }

  summary(id: string): RunSummary | null {
    const run = this.runs.get(id);
    if (!run) return null;
    const conv = convertRunLog(run.records);
    return this.summaryOf(run, conv);
  }

  private summaryOf(run: RunEntry, conv: RunConversion): RunSummary {
    return {
      id: run.id,
      state: run.state,
      ...run.labels,
      seed: conv.header.seed,
      triggers: conv.stats.triggers,
      trialsPlanned: conv.stats.trialsPlanned,
      trialsShown: conv.stats.trialsShown.length,
      responses: conv.stats.responses,
      eventsFile: run.eventsFile,
      rawLog: run.rawLog,
    };
  }

  status(): SessionStatus {
    const cfg = this.o.config;
    const run = this.current ?? (this.lastRunLabels ? (this.runs.get(runPrefix(this.lastRunLabels)) ?? null) : null);
    const warnings: string[] = [];
    let runStatus: SessionStatus['run'] = null;
    if (!this.displayConnected) warnings.push('participant display is not connected');
    if (this.displayConnected && !this.focused)
      warnings.push('the display window lost focus: keyboard triggers and responses are dropped until it is clicked');
    if (this.displayConnected && !this.visible) warnings.push('the display page is hidden (another tab or minimized)');
    const refresh = this.displayReady?.refreshHz ?? null;
    if (refresh !== null && Math.abs(refresh - cfg.display.refreshRateHz) / cfg.display.refreshRateHz > 0.02) {
      warnings.push(
        `measured refresh rate ${refresh.toFixed(1)} Hz differs from the configured ${cfg.display.refreshRateHz} Hz`,
      );
    }
    if (run) {
      const conv = convertRunLog(run.records);
      const header = conv.header;
      const tr = header.config.repetitionTimeS;
      const s = conv.stats;
      const now = this.now();
      const live: LiveRunFigures = {
        measuredTrS: s.measuredTrS,
        trDeviationPct: s.measuredTrS === null ? null : ((s.measuredTrS - tr) / tr) * 100,
        missedTriggers: s.missedTriggers,
        extraTriggers: s.extraTriggers,
        currentTrial: s.currentTrial,
        onsetErrorMs: s.onsetErrorMs
          ? { median: s.onsetErrorMs.median, medianAbs: s.onsetErrorMs.medianAbs, maxAbs: s.onsetErrorMs.maxAbs }
          : null,
        scannerTimeS: s.t0 === null || run !== this.current ? null : (now - s.t0) / 1000,
        durationS: header.schedule.durationS,
      };
      runStatus = { ...this.summaryOf(run, conv), live };
      if (run === this.current) {
        const waiting =
          run.state === 'running' ||
          (run.state === 'armed' && run.sequenceBegun) ||
          (run.state === 'armed' && s.triggers > 0);
        if (waiting && (s.lastTriggerT === null ? false : now - s.lastTriggerT > 2 * tr * 1000))
          warnings.push(`no trigger for ${((now - s.lastTriggerT!) / 1000).toFixed(1)} s (more than 2 TRs)`);
        if (live.trDeviationPct !== null && Math.abs(live.trDeviationPct) > 1)
          warnings.push(`measured TR ${s.measuredTrS!.toFixed(4)} s differs from the configured ${tr} s`);
        if (s.missedTriggers > 0) warnings.push(`${s.missedTriggers} missed trigger(s)`);
        if (s.extraTriggers > 0) warnings.push(`${s.extraTriggers} extra trigger(s)`);
      }
    }
    let nextRun: RunLabels | null = null;
    if (!this.current && this.lastRunLabels) {
      let n = this.lastRunLabels.run + 1;
      while (this.runs.has(runPrefix({ ...this.lastRunLabels, run: n }))) n++;
      nextRun = { ...this.lastRunLabels, run: n };
    }
    return {
      display: {
        connected: this.displayConnected,
        clientId: this.displayClientId,
        readyForRun: this.displayReady?.runId ?? null,
        focused: this.focused,
        visible: this.visible,
        refreshHz: refresh,
        screen: this.displayHello
          ? `${this.displayHello.screenWidth}x${this.displayHello.screenHeight} @${this.displayHello.devicePixelRatio}x`
          : null,
        userAgent: this.displayHello?.userAgent ?? null,
      },
      trigger: {
        source: this.o.triggerSource.description,
        kind: this.o.triggerSource.kind,
        count: this.triggerSeq,
        lastAgoMs: this.lastTriggerMs === null ? null : this.now() - this.lastTriggerMs,
      },
      run: runStatus,
      nextRun,
      runs: [...this.runs.keys()],
      warnings,
      config: {
        repetitionTimeS: cfg.repetitionTimeS,
        dummyVolumes: cfg.dummyVolumes,
        runs: cfg.runs,
        displayLatencyMs: cfg.displayLatencyMs,
      },
    };
  }

  /** The run the display should be showing now (for a display that connects). */
  currentAnnouncement(): RunAnnouncement | null {
    return this.current ? this.announcement(this.current) : null;
  }

  get stimulusCopyFolder(): string {
    return this.stimulusCopy;
  }
}

function convertT0(run: RunEntry): number | null {
  for (const r of run.records) if (r.type === 'time_zero') return r.t;
  return null;
}

/** A run id that does not exist (-> 404). */
export class NotFoundError extends InputError {}
