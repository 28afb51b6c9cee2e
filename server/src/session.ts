import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  InputError,
  displayEventSchema,
  volumeAt,
  type DisplayEvent,
  type DisplayFailed,
  type DisplayHello,
  type DisplayReady,
  type ImageSequencePlan,
  type RunAnnouncement,
  type RunLabels,
  type RunState,
  type RunSummary,
} from '@orthostim/protocol';
import { copyStimulusSet, ensureDataset, listRunLogs, normalizeRunLabels, runPaths, runPrefix } from './bids-dataset';
import { DisplayRegistry, type DisplayRole } from './display-registry';
import { implausibleDisplayEvent } from './display-event-check';
import { convertRunLog } from './events-from-log';
import { faultPoint } from './fault-points';
import { imageSequencePlan } from './image-sequence-plan';
import type { LogRecord, RunHeaderRecord } from './log-records';
import { newRunEntry, runAnnouncement, runSummary, type RunEntry } from './run-entry';
import { buildRunHeader, createRunLog, runEventsWritten, writeRunEventsFiles } from './run-files';
import { RunLogWriter } from './run-log';
import { recoveredRunEntry, repairRunLog } from './run-recovery';
import { NotFoundError } from './session-errors';
import type { ClosedState, RecoveredRun, SessionOptions } from './session-options';
import { buildSessionStatus, type SessionStatus } from './session-status';
import { checkStimulusFilesInside } from './stimulus-files';
import type { RelayedTriggerSource } from './triggers';

export { NotFoundError, StorageError } from './session-errors';
export type { LiveRunFigures, SessionStatus } from './session-status';
export type { DisplayChannel, RecoveredRun, SessionOptions } from './session-options';

/** Refused messages from other connections written into one run's log (later ones are only counted). */
const MAX_LOGGED_REFUSALS = 200;

/**
 * One scanner session: arms runs, numbers and relays triggers, logs everything the run's display
 * reports (and refuses, logging them, events from any other connection or that cannot be true),
 * and writes each run's BIDS events when it finishes, is aborted or fails, or (after a restart) is
 * found interrupted. All time comes from the injected clock; all I/O is the run log and the dataset.
 */
export class Session {
  private runs = new Map<string, RunEntry>();
  private current: RunEntry | null = null;
  private lastRunLabels: RunLabels | null = null;
  private triggerSeq = 0;
  private lastTriggerMs: number | null = null;
  private readonly displays = new DisplayRegistry();
  private displayReady: DisplayReady | null = null;
  private focused = true;
  private visible = true;
  private refusedOther = { count: 0, last: null as string | null };
  private stimFiles: string[] = [];
  private setFile = '';
  private stimulusCopy = '';
  readonly recovered: RecoveredRun[] = [];

  constructor(private readonly o: SessionOptions) {}

  /** Prepare the dataset, copy the stimulus set, close runs a killed server left open, start triggers. */
  async start(): Promise<void> {
    checkStimulusFilesInside(this.o.stimuli);
    ensureDataset(this.o.dataDir, this.o.version);
    const copy = copyStimulusSet(this.o.dataDir, this.o.stimuli);
    this.stimFiles = copy.stimFiles;
    this.setFile = copy.setFile;
    this.stimulusCopy = copy.folder;
    for (const path of listRunLogs(this.o.dataDir)) this.recoverRun(path);
    await this.o.triggerSource.start((t) => this.onTrigger(t));
  }

  async stop(): Promise<void> {
    if (this.current) this.closeRun(this.current, 'incomplete', 'the server was stopped during the run');
    await this.o.triggerSource.stop();
  }

  private now(): number {
    return this.o.clock.now();
  }

  private warn(line: string): void {
    (this.o.warn ?? ((l: string) => process.stderr.write(`orthostim serve: ${l}\n`)))(line);
  }

  /** Keep a record in memory and append it to the log; a failed write marks the run, never throws. */
  private record(run: RunEntry, r: LogRecord): void {
    run.records.push(r);
    if (!run.log) return;
    if (run.log.append(r)) {
      if (run.storageFaultUnlogged) {
        run.storageFaultUnlogged = false;
        const fault: LogRecord = { type: 'storage_fault', ...this.stamp(), detail: run.storageError ?? '' };
        run.records.push(fault);
        run.log.append(fault);
      }
    } else if (!run.storageFaultUnlogged || run.storageError !== run.log.fault) {
      run.storageError = run.log.fault;
      run.storageFaultUnlogged = true;
      this.warn(`run ${run.id}: writing the raw log failed: ${run.log.fault}`);
    }
  }

  private stamp(): { t: number; wallMs: number } {
    return { t: this.now(), wallMs: Date.now() };
  }

  /**
   * A raw log found at start: repair it (torn last record, no header), close it as incomplete if
   * it has no `end`, and write its events files if they are missing.
   */
  private recoverRun(path: string): void {
    let repaired: ReturnType<typeof repairRunLog>;
    try {
      repaired = repairRunLog(path);
    } catch (err) {
      this.recovered.push({ id: path, eventsFile: null, error: (err as Error).message, state: null, notes: [] });
      return;
    }
    if (repaired.kind === 'moved-aside') {
      this.recovered.push({ id: path, eventsFile: null, error: null, state: null, notes: repaired.notes });
      return;
    }
    const entry = recoveredRunEntry(path, repaired);
    const report = (r: Partial<RecoveredRun>) =>
      this.recovered.push({
        id: entry.id,
        eventsFile: null,
        error: null,
        state: entry.state,
        notes: repaired.notes,
        ...r,
      });
    this.runs.set(entry.id, entry);
    this.lastRunLabels = entry.labels;
    const ended = entry.endReason !== null;
    if (ended && runEventsWritten(this.o.dataDir, entry.labels)) {
      entry.eventsFile = join(this.o.dataDir, repaired.header.eventsFile);
      if (repaired.notes.length) report({ eventsFile: entry.eventsFile });
      return;
    }
    try {
      if (!ended) {
        entry.log = new RunLogWriter(path, this.o.fsync ?? true, 'append');
        this.closeRun(entry, 'incomplete', 'the server stopped during the run (found on restart)');
      } else entry.eventsFile = writeRunEventsFiles(this.o.dataDir, entry.records);
      if (!entry.eventsFile) throw new Error(entry.storageError ?? 'events files not written');
      report({ eventsFile: entry.eventsFile });
    } catch (err) {
      report({ error: (err as Error).message });
    }
  }

  /** Condition-rich designs: this run's slice of the participant's image sequence (see image-sequence-plan.ts). */
  private sequencePlan(labels: RunLabels): ImageSequencePlan | undefined {
    if (this.o.config.imageTrialsPerRun === undefined) return undefined;
    const headers = [...this.runs.values()].map((r) => r.records[0] as RunHeaderRecord);
    return imageSequencePlan(labels, this.o.config, headers);
  }

  /** `POST /api/runs`. Throws InputError (-> 400) for bad labels, a busy session or an existing run. */
  arm(request: { participant: unknown; session?: unknown; task?: unknown; run: unknown; seed?: number }): RunSummary {
    const labels = normalizeRunLabels(request);
    const id = this.checkArmable(labels);
    const header = buildRunHeader({
      id,
      labels,
      requestedSeed: request.seed,
      stimuli: this.o.stimuli,
      config: this.o.config,
      copy: { setFile: this.setFile, stimFiles: this.stimFiles },
      triggerSource: this.o.triggerSource.description,
      version: this.o.version,
      stamp: this.stamp(),
      sequence: this.sequencePlan(labels),
    });
    const run = newRunEntry({
      id,
      labels,
      state: 'armed',
      records: [],
      log: createRunLog(join(this.o.dataDir, runPaths(labels).rawLog), id, header, this.o.fsync ?? true),
      rawLog: join(this.o.dataDir, runPaths(labels).rawLog),
      eventsFile: null,
    });
    run.records.push(header);
    run.displaySecret = this.displays.currentSecret;
    const display = this.displays.display();
    if (display) this.record(run, { type: 'display_hello', ...this.stamp(), hello: display.hello });
    this.record(run, {
      type: 'display_connection',
      ...this.stamp(),
      connected: display !== null,
      clientId: display?.clientId ?? null,
    });
    this.runs.set(id, run);
    this.current = run;
    this.lastRunLabels = labels;
    this.displayReady = null;
    this.o.display.announce(this.announce(run));
    return this.summary(id)!;
  }

  private checkArmable(labels: RunLabels): string {
    if (this.current)
      throw new InputError(`run ${this.current.id} is ${this.current.state}; abort it before arming another`);
    const id = runPrefix(labels);
    if (this.runs.has(id)) throw new InputError(`run ${id} already exists; arm the next run index`);
    const paths = runPaths(labels);
    for (const p of [paths.events, paths.rawLog]) {
      if (existsSync(join(this.o.dataDir, p)))
        throw new InputError(`run ${id} already exists (${p}); arm the next run index`);
    }
    return id;
  }

  announce(run: RunEntry): RunAnnouncement {
    return runAnnouncement(run, this.o.stimuli, (i) => this.o.imageUrl(i));
  }

  /** A trigger arrived (or a relaying source measured one) at `serverMs`. */
  private onTrigger(serverMs: number): void {
    const seq = ++this.triggerSeq;
    this.lastTriggerMs = serverMs;
    const run = this.current;
    let volume: number | null = null;
    if (run) {
      const cfg = (run.records[0] as RunHeaderRecord).config;
      run.triggerCount++;
      volume =
        run.t0 === null ? run.triggerCount - 1 - cfg.dummyVolumes : volumeAt(serverMs, run.t0, cfg.repetitionTimeS);
    }
    // Relay first: the display is waiting for it; the log write (with fsync) comes after.
    this.o.display.trigger({ runId: run?.id ?? null, seq, volume, serverMs });
    if (!run || volume === null) return;
    this.record(run, { type: 'trigger', t: serverMs, wallMs: Date.now(), seq, volume });
    if (volume === 0 && run.state === 'armed') this.startRun(run, serverMs, seq);
  }

  /** Time zero: the run is running; check for its end once the last volume is acquired. */
  private startRun(run: RunEntry, serverMs: number, seq: number): void {
    run.t0 = serverMs;
    this.record(run, { type: 'time_zero', t: serverMs, wallMs: Date.now(), seq });
    this.setState(run, 'running', 'trigger of the first stored volume');
    const header = run.records[0] as RunHeaderRecord;
    const endMs = serverMs + header.schedule.durationS * 1000;
    run.finishDeadline = endMs + (this.o.finishGraceMs ?? 10_000);
    run.finishTimer = this.o.clock.setTimer(endMs - this.now() + (header.config.repetitionTimeS * 1000) / 2, () =>
      this.checkFinished(run),
    );
  }

  private checkFinished(run: RunEntry): void {
    run.finishTimer = null;
    if (this.current !== run) return;
    const done = convertRunLog(run.records).stats.displayComplete;
    if (done || !this.displays.displayConnected() || this.now() >= (run.finishDeadline ?? 0)) {
      const reason = done
        ? 'all trials shown and the last volume acquired'
        : 'the run time is over (the display did not report completion)';
      this.closeRun(run, 'finished', reason);
    } else {
      run.finishTimer = this.o.clock.setTimer(100, () => this.checkFinished(run));
    }
  }

  private setState(run: RunEntry, state: RunState, reason: string): void {
    run.state = state;
    this.record(run, { type: 'state', ...this.stamp(), state, reason });
  }

  /** End a run, step by step: log its state and `end`, close the log, tell the display, write its events files. */
  private closeRun(run: RunEntry, state: ClosedState, reason: string): void {
    run.finishTimer?.cancel();
    run.finishTimer = null;
    if (state === 'aborted' || state === 'failed') this.setState(run, state, reason);
    faultPoint('after-state');
    run.state = state;
    run.endReason = reason;
    this.record(run, { type: 'end', ...this.stamp(), state, reason });
    faultPoint('after-end');
    run.log?.close();
    if (run.log?.fault) run.storageError = run.log.fault;
    run.log = null;
    faultPoint('after-close');
    if (this.current === run) {
      this.current = null;
      this.o.triggerSource.endSequence?.();
      this.o.display.ended({ runId: run.id, state });
    }
    try {
      run.eventsFile = writeRunEventsFiles(this.o.dataDir, run.records);
    } catch (err) {
      run.storageError = `events files not written (${(err as Error).message}); the next start of the server writes them from the raw log`;
      this.warn(`run ${run.id}: ${run.storageError}`);
    }
    faultPoint('after-events-json');
  }

  abort(id: string): RunSummary {
    const run = this.runs.get(id);
    if (!run) throw new NotFoundError(`no run with id ${JSON.stringify(id)}`);
    if (run !== this.current)
      throw new InputError(`run ${id} is ${run.state}; only an armed or running run can be aborted`);
    this.closeRun(run, 'aborted', 'aborted by the operator');
    return this.summary(id)!;
  }

  /**
   * A socket said hello. Returns its secret and role; only the `display` role receives runs. The
   * current run, if it has no display yet, is bound to this one.
   */
  displayHello(connectionId: string, hello: DisplayHello): { secret: string; role: DisplayRole } {
    const run = this.current;
    const answer = this.displays.hello(connectionId, hello, run?.displaySecret ?? null);
    if (answer.role !== 'display') {
      this.warn(`a second display connected (${hello.clientId}); it cannot write into runs`);
      return answer;
    }
    this.focused = true;
    this.visible = true;
    if (run) {
      run.displaySecret = answer.secret;
      const shown = this.displays.get(connectionId)!;
      this.record(run, { type: 'display_connection', ...this.stamp(), connected: true, clientId: shown.clientId });
      this.record(run, { type: 'display_hello', ...this.stamp(), hello: shown.hello });
    }
    return answer;
  }

  /** The run the display should present now, for a socket that just became the display. */
  displayGone(connectionId: string): void {
    const wasDisplay = this.displays.isDisplay(connectionId);
    const c = this.displays.gone(connectionId);
    if (!c || !wasDisplay || this.displays.displayConnected()) return;
    this.displayReady = null;
    if (this.current)
      this.record(this.current, {
        type: 'display_connection',
        ...this.stamp(),
        connected: false,
        clientId: c.clientId,
      });
  }

  /** Is this connection the display of `run` (or, with no run, the participant display)? */
  private isRunDisplay(connectionId: string, run: RunEntry | null): boolean {
    if (!this.displays.isDisplay(connectionId)) return false;
    return run === null || run.displaySecret === this.displays.get(connectionId)!.secret;
  }

  /** Log a refused event: in the current run's log (if any), on stderr, and for the operator page. */
  private refuse(connectionId: string, source: 'display' | 'other', reason: string, event: unknown): void {
    const clientId = this.displays.get(connectionId)?.clientId ?? null;
    const who = clientId ?? `connection ${connectionId}`;
    this.warn(`refused from ${who}: ${reason}`);
    if (source === 'other') this.refusedOther = { count: this.refusedOther.count + 1, last: `${who}: ${reason}` };
    const run = this.current;
    if (!run) return;
    run.refused++;
    // A client flooding the socket is counted, but logs at most MAX_LOGGED_REFUSALS records per run.
    if (source === 'other' && run.refused > MAX_LOGGED_REFUSALS) return;
    const text = JSON.stringify(event) ?? String(event);
    this.record(run, {
      type: 'refused',
      ...this.stamp(),
      source,
      clientId,
      reason,
      event: text.length > 1000 ? `${text.slice(0, 1000)}…` : text,
    });
  }

  private refuseOther(connectionId: string, what: string, payload: unknown): void {
    this.refuse(connectionId, 'other', `${what} from a connection that is not the run display`, payload);
  }

  displayReadyEvent(connectionId: string, ready: DisplayReady): void {
    const run = this.current;
    if (!this.isRunDisplay(connectionId, run)) return this.refuseOther(connectionId, 'display:ready', ready);
    if (!run || ready.runId !== run.id) return;
    this.displayReady = ready;
    this.record(run, { type: 'display_ready', ...this.stamp(), ready });
    if (!run.sequenceBegun && this.o.triggerSource.beginSequence) {
      run.sequenceBegun = true;
      const header = run.records[0] as RunHeaderRecord;
      this.o.triggerSource.beginSequence(header.config.dummyVolumes + header.schedule.totalVolumes);
    }
  }

  /** The display cannot present the run (an image failed to load): the arm ends as `failed`. */
  displayFailedEvent(connectionId: string, failure: DisplayFailed): void {
    const run = this.current;
    if (!this.isRunDisplay(connectionId, run)) return this.refuseOther(connectionId, 'display:failed', failure);
    if (!run || failure.runId !== run.id) return;
    this.warn(`run ${run.id} failed: ${failure.reason}`);
    this.closeRun(run, 'failed', `the display could not present the run: ${failure.reason}`);
  }

  /**
   * Events from the display, each validated; returns the ids now stored (so the display can drop
   * them from its resend buffer). Duplicates (resent after a reconnect) are acknowledged, not logged
   * twice; events for runs that are over are acknowledged and dropped. Events from any other
   * connection, and implausible ones, are refused and logged.
   */
  displayEvents(connectionId: string, raw: readonly unknown[]): { stored: string[]; rejected: string[] } {
    const stored: string[] = [];
    const rejected: string[] = [];
    const run = this.current;
    if (!this.isRunDisplay(connectionId, run)) {
      if (raw.length) this.refuseOther(connectionId, `${raw.length} event(s)`, raw[0]);
      return { stored, rejected: raw.map(() => 'not the run display') };
    }
    for (const item of raw) {
      const parsed = displayEventSchema.safeParse(item);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        rejected.push(`${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
        continue;
      }
      stored.push(parsed.data.id);
      this.takeDisplayEvent(connectionId, run, parsed.data);
    }
    return { stored, rejected };
  }

  private takeDisplayEvent(connectionId: string, run: RunEntry | null, e: DisplayEvent): void {
    if (e.type === 'focus') {
      this.focused = e.focused;
      this.visible = e.visible;
    }
    if (!run || run.seenEventIds.has(e.id)) return;
    // A key trigger belongs to whatever is armed now, even if sent before the display knew of it.
    const unboundKey = e.type === 'key_trigger' && e.runId === null;
    if (e.runId !== run.id && !unboundKey) return;
    run.seenEventIds.add(e.id);
    const header = run.records[0] as RunHeaderRecord;
    if (unboundKey && e.serverMs < header.t) return; // pressed before this run was armed: meant for none
    const problem = implausibleDisplayEvent(e, { header, t0: run.t0, onsets: run.onsets, nowMs: this.now() });
    if (problem) return this.refuse(connectionId, 'display', problem, e);
    if (e.type === 'onset') run.onsets.set(e.trialIndex, e.serverMs);
    if (!unboundKey) this.record(run, { type: 'display', ...this.stamp(), event: e });
    if (e.type === 'key_trigger') this.relayKeyTrigger(e.serverMs);
  }

  private relayKeyTrigger(serverMs: number): void {
    if (this.o.triggerSource.kind === 'keyboard') (this.o.triggerSource as RelayedTriggerSource).push(serverMs);
  }

  summary(id: string): RunSummary | null {
    const run = this.runs.get(id);
    if (!run) return null;
    return runSummary(run, convertRunLog(run.records));
  }

  status(): SessionStatus {
    const last = this.lastRunLabels ? (this.runs.get(runPrefix(this.lastRunLabels)) ?? null) : null;
    return buildSessionStatus({
      config: this.o.config,
      now: this.now(),
      displays: this.displays,
      focused: this.focused,
      visible: this.visible,
      ready: this.displayReady,
      trigger: {
        source: this.o.triggerSource.description,
        kind: this.o.triggerSource.kind,
        count: this.triggerSeq,
        lastAgoMs: this.lastTriggerMs === null ? null : this.now() - this.lastTriggerMs,
      },
      run: this.current ?? last,
      isCurrent: this.current !== null,
      summaryOf: runSummary,
      nextRun: this.nextRunLabels(),
      runs: [...this.runs.keys()],
      refused: this.refusedOther,
    });
  }

  private nextRunLabels(): RunLabels | null {
    if (this.current || !this.lastRunLabels) return null;
    let n = this.lastRunLabels.run + 1;
    while (this.runs.has(runPrefix({ ...this.lastRunLabels, run: n }))) n++;
    return { ...this.lastRunLabels, run: n };
  }

  /** The run the display should be showing now (for a display that connects). */
  currentAnnouncement(): RunAnnouncement | null {
    return this.current ? this.announce(this.current) : null;
  }

  get stimulusCopyFolder(): string {
    return this.stimulusCopy;
  }
}
