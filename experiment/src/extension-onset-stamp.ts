import { ParameterType, type JsPsych, type JsPsychExtension } from 'jspsych';
import { FRAME_CHANGE_EVENT, type FrameChangeDetail } from './plugin-scanner-image';

/** What the extension reports for each frame-locked change (the session client sends it). */
export interface StampedChange extends FrameChangeDetail {
  /** Frame time on the server's clock, ms (display latency not included). */
  serverMs: number;
}

export interface OnsetStampParams {
  /** Display clock -> server clock, ms (the clock-sync estimate at the time of the change). */
  toServerMs: (displayMs: number) => number;
  /** Server clock -> scanner time, s (null before time zero). */
  toScannerS: (serverMs: number) => number | null;
  /** Deliver each stamped change as it happens (not at trial end, so a crash loses nothing shown). */
  report: (change: StampedChange) => void;
  /** displayLatencyMs from the session config: added to onsets in scanner time. */
  latencyMs?: number;
}

/**
 * jsPsych extension that stamps onsets: listens for the frame-locked changes a trial announces
 * (requestAnimationFrame times on the display clock), converts them to the server's clock and to
 * scanner time, reports each one at once, and adds them to the trial's data.
 */
export class OnsetStampExtension implements JsPsychExtension {
  static info = {
    name: 'orthostim-onset-stamp',
    version: '0.1.0',
    data: {
      onset_server_ms: { type: ParameterType.FLOAT },
      onset_scanner_s: { type: ParameterType.FLOAT },
      onset_error_ms: { type: ParameterType.FLOAT },
      offset_server_ms: { type: ParameterType.FLOAT },
    },
  };
  private params: OnsetStampParams | null = null;
  private stamps: StampedChange[] = [];
  private listener = (e: Event) => this.onChange((e as CustomEvent<FrameChangeDetail>).detail);
  private element: HTMLElement | null = null;

  constructor(private jsPsych: JsPsych) {}

  async initialize(params?: Record<string, unknown>): Promise<void> {
    this.params = params as unknown as OnsetStampParams;
  }

  on_start(): void {
    this.stamps = [];
    this.element = this.jsPsych.getDisplayElement();
    this.element.addEventListener(FRAME_CHANGE_EVENT, this.listener);
  }

  on_load(): void {}

  private onChange(detail: FrameChangeDetail): void {
    if (!this.params) return;
    const stamped = { ...detail, serverMs: this.params.toServerMs(detail.frameMs) };
    this.stamps.push(stamped);
    this.params.report(stamped);
  }

  on_finish(): Record<string, unknown> {
    this.element?.removeEventListener(FRAME_CHANGE_EVENT, this.listener);
    const onset = this.stamps.find((s) => s.kind === 'onset');
    const offset = this.stamps.find((s) => s.kind === 'offset');
    const latency = this.params?.latencyMs ?? 0;
    const onsetS = onset ? this.params!.toScannerS(onset.serverMs + latency) : null;
    return {
      onset_server_ms: onset?.serverMs ?? null,
      onset_scanner_s: onsetS,
      onset_error_ms: onset && onsetS !== null ? (onsetS - onset.plannedS) * 1000 : null,
      offset_server_ms: offset?.serverMs ?? null,
    };
  }
}
