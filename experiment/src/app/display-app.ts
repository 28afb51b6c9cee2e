import { initJsPsych, type JsPsych } from 'jspsych';
import {
  degreesToPixels,
  scannerToServerMs,
  type DisplayReady,
  type RunAnnouncement,
  type TriggerMessage,
  type VolumeTrigger,
} from '@orthostim/protocol';
import { OnsetStampExtension, type StampedChange } from '../extension-onset-stamp';
import { browserRequestFrame, measureFramePeriod } from '../frame-clock';
import { ScannerImagePlugin } from '../plugin-scanner-image';
import { WaitForTriggerPlugin, type TriggerNotice } from '../plugin-wait-for-trigger';
import type { SessionClient } from '../session-client';

/**
 * The participant display: receives a run from the server, preloads its images, measures the
 * refresh rate, reports ready, and runs the jsPsych timeline (wait for time zero, then one
 * scanner-locked trial per planned trial). Triggers, key presses and focus changes are handled
 * here for the whole page, whatever has focus.
 */
export class DisplayApp {
  private run: RunAnnouncement | null = null;
  private triggers: VolumeTrigger[] = [];
  private listeners = new Set<(t: TriggerNotice) => void>();
  private jsPsych: JsPsych | null = null;
  private framePeriodMs = 1000 / 60;
  private ready: DisplayReady | null = null;

  constructor(
    private readonly client: SessionClient,
    private readonly root: HTMLElement,
    private readonly message: HTMLElement,
  ) {}

  showMessage(text: string): void {
    this.message.textContent = text;
    this.message.style.display = text ? 'flex' : 'none';
  }

  onTrigger(m: TriggerMessage): void {
    const receivedMs = performance.now();
    if (!this.run || m.runId !== this.run.runId || m.volume === null) return;
    this.client.send({
      type: 'trigger_received',
      seq: m.seq,
      receivedMs,
      serverMs: this.client.toServerMs(receivedMs),
    });
    if (m.volume < 0) return;
    this.triggers.push({ volume: m.volume, serverMs: m.serverMs });
    this.triggers.sort((a, b) => a.volume - b.volume);
    for (const l of [...this.listeners]) l({ volume: m.volume, serverMs: m.serverMs });
  }

  onKey(e: KeyboardEvent): void {
    const reply = this.client.reply;
    if (!reply) return;
    if (reply.triggerKey !== null && e.key === reply.triggerKey) {
      e.preventDefault();
      // A key trigger may arrive before the display knows the run: send it unbound (runId null).
      this.client.send(
        { type: 'key_trigger', eventMs: e.timeStamp, serverMs: this.client.toServerMs(e.timeStamp) },
        this.run?.runId ?? null,
      );
    } else if (reply.responseKeys.includes(e.key)) {
      e.preventDefault();
      this.client.send({
        type: 'response',
        key: e.key,
        eventMs: e.timeStamp,
        serverMs: this.client.toServerMs(e.timeStamp),
      });
    }
  }

  onFocusChange(): void {
    const now = performance.now();
    if (this.client.offsetMs === null) return;
    this.client.send({
      type: 'focus',
      focused: document.hasFocus(),
      visible: document.visibilityState === 'visible',
      eventMs: now,
      serverMs: this.client.toServerMs(now),
    });
  }

  onEnded(m: { runId: string; state: string }): void {
    if (!this.run || this.run.runId !== m.runId) return;
    this.stopRun();
  }

  private stopRun(): void {
    const js = this.jsPsych;
    this.jsPsych = null;
    this.run = null;
    this.ready = null;
    this.client.runId = null;
    this.triggers = [];
    this.listeners.clear();
    if (js) js.abortExperiment();
    this.root.innerHTML = '';
  }

  /** A run announcement: a new run, or the same run again after this page reloaded or reconnected. */
  async onAnnounce(run: RunAnnouncement): Promise<void> {
    if (this.run && this.run.runId === run.runId) {
      // Reconnected while presenting: say ready again, take any triggers missed while away.
      if (this.ready) this.client.sendReady(this.ready);
      for (const t of run.triggers) if (!this.triggers.some((x) => x.volume === t.volume)) this.triggers.push(t);
      this.triggers.sort((a, b) => a.volume - b.volume);
      return;
    }
    if (this.run) this.stopRun();
    if (run.state !== 'armed' && run.state !== 'running') return;
    this.run = run;
    this.client.runId = run.runId;
    this.triggers = [...run.triggers];
    this.showMessage('');
    await Promise.all(run.images.map((img) => preloadImage(img.url)));
    // Fresh round trips now that the page is idle: the connect-time burst ran while it was loading.
    await this.client.syncBurst(20);
    const measured = await measureFramePeriod(browserRequestFrame, 60);
    this.framePeriodMs = measured.framePeriodMs;
    if (this.run !== run) return;
    this.ready = {
      runId: run.runId,
      refreshHz: measured.refreshHz,
      framePeriodMs: measured.framePeriodMs,
      imagesLoaded: run.images.length,
    };
    this.client.sendReady(this.ready);
    await this.present(run);
  }

  private scannerToDisplayMs(s: number): number | null {
    const server = scannerToServerMs(s, this.triggers, this.run!.config.repetitionTimeS);
    return server === null ? null : this.client.toDisplayMs(server);
  }

  private async present(run: RunAnnouncement): Promise<void> {
    const cfg = run.config;
    const screenPx = window.screen?.width || window.innerWidth;
    const imagePx = degreesToPixels(cfg.display.imageSizeDeg, cfg.display, screenPx);
    const fixPx = Math.max(8, degreesToPixels(cfg.fixation.sizeDeg, cfg.display, screenPx));
    const fixationHtml = `<div style="position:fixed;inset:0;background:${cfg.display.background}"><div style="position:absolute;left:50%;top:50%;width:${fixPx}px;margin:${-fixPx / 2}px 0 0 ${-fixPx / 2}px;color:${cfg.fixation.color};font:bold ${fixPx}px/1 sans-serif;text-align:center">+</div></div>`;
    document.body.style.background = cfg.display.background;
    const client = this.client;
    const jsPsych = initJsPsych({
      display_element: this.root,
      extensions: [
        {
          type: OnsetStampExtension,
          params: {
            toServerMs: (d: number) => client.toServerMs(d),
            toScannerS: (serverMs: number) => {
              const t0 = this.triggers.find((t) => t.volume === 0);
              return t0 ? (serverMs - t0.serverMs) / 1000 : null;
            },
            report: (c: StampedChange) => {
              if (c.kind === 'onset')
                client.send({
                  type: 'onset',
                  trialIndex: c.index,
                  kind: c.isNull ? 'null' : 'image',
                  frameMs: c.frameMs,
                  serverMs: c.serverMs,
                });
              else if (c.kind === 'offset')
                client.send({ type: 'offset', trialIndex: c.index, frameMs: c.frameMs, serverMs: c.serverMs });
              else if (c.kind === 'fixation_change')
                client.send({
                  type: 'fixation_change',
                  changeIndex: c.index,
                  frameMs: c.frameMs,
                  serverMs: c.serverMs,
                });
            },
            latencyMs: cfg.displayLatencyMs,
          },
        },
      ],
    });
    this.jsPsych = jsPsych;
    const trials = run.schedule.trials;
    const nowScannerS = () => {
      const t0 = this.triggers.find((t) => t.volume === 0);
      return t0 ? (client.toServerMs(performance.now()) - t0.serverMs) / 1000 : -Infinity;
    };
    const timeline: unknown[] = [];
    if (!this.triggers.some((t) => t.volume >= 0)) {
      timeline.push({
        type: WaitForTriggerPlugin,
        volume: 0,
        html: fixationHtml,
        subscribe: (l: (t: TriggerNotice) => void) => {
          this.listeners.add(l);
          return () => this.listeners.delete(l);
        },
        latest: () => {
          const last = this.triggers[this.triggers.length - 1];
          return last ? { volume: last.volume, serverMs: last.serverMs } : null;
        },
      });
    }
    const shown = new Set(run.trialsShown);
    const fixationEvents = run.schedule.fixationChanges.flatMap((c) => [
      { kind: 'change' as const, index: c.index, at_s: c.onsetS },
      { kind: 'restore' as const, index: c.index, at_s: c.onsetS + c.durationS },
    ]);
    trials.forEach((trial, i) => {
      const nextOnset = trials[i + 1]?.onsetS ?? Infinity;
      timeline.push({
        // A display that rejoins a running run skips what is shown or already (nearly) past.
        conditional_function: () => !shown.has(trial.index) && trial.onsetS > nowScannerS() + this.framePeriodMs / 1000,
        timeline: [
          {
            type: ScannerImagePlugin,
            stimulus: trial.imageIndex === null ? null : run.images[trial.imageIndex]!.url,
            schedule_index: trial.index,
            planned_onset_s: trial.onsetS,
            duration_ms: trial.durationS * 1000,
            image_size_px: imagePx,
            fixation_events: fixationEvents.filter((f) => f.at_s >= trial.onsetS && f.at_s < nextOnset),
            fixation_changed_at_start: run.schedule.fixationChanges.some(
              (c) => c.onsetS < trial.onsetS && c.onsetS + c.durationS >= trial.onsetS,
            ),
            fixation_color: cfg.fixation.color,
            fixation_change_color: cfg.fixation.changeColor,
            fixation_size_px: fixPx,
            background: cfg.display.background,
            scanner_to_display_ms: (s: number) => this.scannerToDisplayMs(s),
            frame_period_ms: this.framePeriodMs,
            extensions: [{ type: OnsetStampExtension }],
          },
        ],
      });
    });
    await jsPsych.run(timeline as never);
    if (this.jsPsych === jsPsych && this.run === run) {
      const now = performance.now();
      client.send({
        type: 'complete',
        trialsShown: jsPsych.data.get().filter({ trial_type: 'orthostim-scanner-image' }).count(),
        serverMs: client.toServerMs(now),
      });
      this.root.innerHTML = fixationHtml;
    }
  }
}

function preloadImage(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () =>
      img.decode
        ? img.decode().then(
            () => resolve(),
            () => resolve(),
          )
        : resolve();
    // The message goes to the operator and the run log: without the query (the access token).
    img.onerror = () => reject(new Error(`could not load image ${url.split('?')[0]}`));
    img.src = url;
  });
}
