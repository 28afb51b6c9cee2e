import { ParameterType, type JsPsych, type JsPsychPlugin, type TrialType } from 'jspsych';
import { browserRequestFrame, isNearestFrame, type RequestFrame } from './frame-clock';

/** Name of the DOM event a plugin dispatches on its display element at each frame-locked change. */
export const FRAME_CHANGE_EVENT = 'orthostim:frame-change';
export interface FrameChangeDetail {
  kind: 'onset' | 'offset' | 'fixation_change' | 'fixation_restore';
  /** Trial index (onset/offset) or fixation-change index. */
  index: number;
  isNull: boolean;
  frameMs: number;
  plannedS: number;
}

const info = {
  name: 'orthostim-scanner-image',
  version: '0.1.0',
  parameters: {
    /** Image URL; null for a null trial (fixation only). */
    stimulus: { type: ParameterType.IMAGE, default: null, preload: false },
    schedule_index: { type: ParameterType.INT, default: 0 },
    /** Planned onset in scanner time (s from time zero). */
    planned_onset_s: { type: ParameterType.FLOAT, default: undefined },
    duration_ms: { type: ParameterType.FLOAT, default: 1000 },
    image_size_px: { type: ParameterType.FLOAT, default: 256 },
    /**
     * Fixation-task colour flips inside this trial's window (its onset up to the next trial's):
     * [{ kind: 'change' | 'restore', index, at_s }] in scanner time. A change may start in one
     * trial and be restored by the next.
     */
    fixation_events: { type: ParameterType.COMPLEX, array: true, default: [] },
    /** The cross shows the change colour when the trial starts (a change spans the boundary). */
    fixation_changed_at_start: { type: ParameterType.BOOL, default: false },
    fixation_color: { type: ParameterType.STRING, default: '#000000' },
    fixation_change_color: { type: ParameterType.STRING, default: '#ff0000' },
    fixation_size_px: { type: ParameterType.FLOAT, default: 20 },
    background: { type: ParameterType.STRING, default: '#808080' },
    /** Display-clock time (ms) of scanner time `s`, re-anchored to the latest trigger; null before time zero. */
    scanner_to_display_ms: { type: ParameterType.FUNCTION, default: undefined },
    frame_period_ms: { type: ParameterType.FLOAT, default: 1000 / 60 },
    /** requestAnimationFrame (tests inject a fake). */
    request_frame: { type: ParameterType.FUNCTION, default: null },
  },
  data: {
    schedule_index: { type: ParameterType.INT },
    stimulus: { type: ParameterType.STRING },
    planned_onset_s: { type: ParameterType.FLOAT },
    onset_frame_ms: { type: ParameterType.FLOAT },
    offset_frame_ms: { type: ParameterType.FLOAT },
    fixation_change_frames_ms: { type: ParameterType.FLOAT, array: true },
  },
} as const;
type Info = typeof info;

/** The trial's parameters once jsPsych has applied the defaults. */
export interface ScannerImageTrial {
  stimulus: string | null;
  schedule_index: number;
  planned_onset_s: number;
  duration_ms: number;
  image_size_px: number;
  fixation_events: { kind: 'change' | 'restore'; index: number; at_s: number }[];
  fixation_changed_at_start: boolean;
  fixation_color: string;
  fixation_change_color: string;
  fixation_size_px: number;
  background: string;
  scanner_to_display_ms: (scannerS: number) => number | null;
  frame_period_ms: number;
  request_frame: RequestFrame | null;
}

interface Change {
  kind: FrameChangeDetail['kind'];
  index: number;
  plannedS: number;
  apply(): void;
}

/**
 * A scanner-locked image trial. Shows the fixation cross, puts the image up in the display frame
 * nearest its planned onset (scanner time -> display clock through `scanner_to_display_ms`, asked
 * again every frame so a newer trigger re-anchors it), takes it down the same way after
 * `duration_ms`, and flips the fixation colour for the fixation task. Every change is made inside
 * a requestAnimationFrame callback and announced with its frame time (FRAME_CHANGE_EVENT), which
 * the onset-stamp extension converts to the server's clock. The trial ends after its last change.
 */
export class ScannerImagePlugin implements JsPsychPlugin<Info> {
  static info = info;
  constructor(private jsPsych: JsPsych) {}

  trial(display: HTMLElement, trialParams: TrialType<Info>, on_load?: () => void): Promise<void> {
    // jsPsych has filled every default by now.
    const trial = trialParams as unknown as ScannerImageTrial;
    const toDisplay = trial.scanner_to_display_ms;
    const requestFrame = trial.request_frame ?? browserRequestFrame;
    const period = trial.frame_period_ms;
    const size = Math.round(trial.image_size_px);
    const fix = Math.round(trial.fixation_size_px);
    display.innerHTML = `<div class="orthostim-stage" style="position:fixed;inset:0;background:${trial.background}">
<img class="orthostim-image" alt="" style="position:absolute;left:50%;top:50%;width:${size}px;height:${size}px;margin:${-size / 2}px 0 0 ${-size / 2}px;visibility:hidden">
<div class="orthostim-fixation" style="position:absolute;left:50%;top:50%;width:${fix}px;height:${fix}px;margin:${-fix / 2}px 0 0 ${-fix / 2}px;color:${trial.fixation_changed_at_start ? trial.fixation_change_color : trial.fixation_color};font:bold ${fix}px/1 sans-serif;text-align:center">+</div></div>`;
    const img = display.querySelector<HTMLImageElement>('.orthostim-image')!;
    const cross = display.querySelector<HTMLElement>('.orthostim-fixation')!;
    const isNull = trial.stimulus === null;
    if (trial.stimulus !== null) img.src = trial.stimulus;

    const changes: Change[] = [
      {
        kind: 'onset',
        index: trial.schedule_index,
        plannedS: trial.planned_onset_s,
        apply: () => void (isNull || (img.style.visibility = 'visible')),
      },
      {
        kind: 'offset',
        index: trial.schedule_index,
        plannedS: trial.planned_onset_s + trial.duration_ms / 1000,
        apply: () => void (img.style.visibility = 'hidden'),
      },
    ];
    for (const f of trial.fixation_events) {
      const change = f.kind === 'change';
      changes.push({
        kind: change ? 'fixation_change' : 'fixation_restore',
        index: f.index,
        plannedS: f.at_s,
        apply: () => void (cross.style.color = change ? trial.fixation_change_color : trial.fixation_color),
      });
    }
    // Stable sort: at equal times the onset goes first.
    changes.sort((a, b) => a.plannedS - b.plannedS);
    const frames = new Map<string, number>();
    on_load?.();

    return new Promise<void>((resolve) => {
      const onFrame = (frameMs: number) => {
        while (changes.length) {
          const next = changes[0]!;
          const target = toDisplay(next.plannedS);
          if (target === null || !isNearestFrame(frameMs, target, period)) break;
          changes.shift();
          next.apply();
          frames.set(`${next.kind}:${next.index}`, frameMs);
          const detail: FrameChangeDetail = {
            kind: next.kind,
            index: next.index,
            isNull,
            frameMs,
            plannedS: next.plannedS,
          };
          display.dispatchEvent(new CustomEvent(FRAME_CHANGE_EVENT, { detail }));
        }
        if (changes.length) {
          requestFrame(onFrame);
          return;
        }
        this.jsPsych.finishTrial({
          schedule_index: trial.schedule_index,
          stimulus: trial.stimulus,
          planned_onset_s: trial.planned_onset_s,
          onset_frame_ms: frames.get(`onset:${trial.schedule_index}`),
          offset_frame_ms: frames.get(`offset:${trial.schedule_index}`),
          fixation_change_frames_ms: [...frames].filter(([k]) => k.startsWith('fixation_change:')).map(([, v]) => v),
        });
        resolve();
      };
      requestFrame(onFrame);
    });
  }
}
