import { ParameterType, type JsPsych, type JsPsychPlugin, type TrialType } from 'jspsych';

export interface TriggerNotice {
  volume: number;
  serverMs: number;
}

const info = {
  name: 'orthostim-wait-for-trigger',
  version: '0.1.0',
  parameters: {
    /** Volume to wait for (0: time zero, the first stored volume). */
    volume: { type: ParameterType.INT, default: 0 },
    /** `(listener) => unsubscribe`: delivers each trigger the server relays. */
    subscribe: { type: ParameterType.FUNCTION, default: undefined },
    /** The latest trigger already received (so a trigger that came first is not waited for), or null. */
    latest: { type: ParameterType.FUNCTION, default: null },
    /** Shown while waiting (the participant sees the fixation cross). */
    html: { type: ParameterType.HTML_STRING, default: '' },
  },
  data: {
    volume: { type: ParameterType.INT },
    trigger_server_ms: { type: ParameterType.FLOAT },
  },
} as const;
type Info = typeof info;

export interface WaitForTriggerTrial {
  volume: number;
  subscribe: (listener: (t: TriggerNotice) => void) => () => void;
  latest: (() => TriggerNotice | null) | null;
  html: string;
}

/** Waits until the trigger of `volume` (or a later one) has arrived, then ends. */
export class WaitForTriggerPlugin implements JsPsychPlugin<Info> {
  static info = info;
  constructor(private jsPsych: JsPsych) {}

  trial(display: HTMLElement, trialParams: TrialType<Info>, on_load?: () => void): Promise<void> {
    const trial = trialParams as unknown as WaitForTriggerTrial;
    display.innerHTML = trial.html;
    on_load?.();
    const subscribe = trial.subscribe;
    const latest = trial.latest?.() ?? null;
    return new Promise<void>((resolve) => {
      const done = (t: TriggerNotice) => {
        this.jsPsych.finishTrial({ volume: t.volume, trigger_server_ms: t.serverMs });
        resolve();
      };
      if (latest && latest.volume >= trial.volume) return done(latest);
      const unsubscribe = subscribe((t) => {
        if (t.volume < trial.volume) return;
        unsubscribe();
        done(t);
      });
    });
  }
}
