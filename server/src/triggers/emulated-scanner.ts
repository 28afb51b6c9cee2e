import { createNormalRng, createRng } from '@orthostim/rdm';
import type { Clock, TimerHandle } from '../clock';
import type { TriggerSource } from './trigger-source';

export interface EmulatorOptions {
  repetitionTimeS: number;
  /** Standard deviation of each pulse's timing error, ms (a real scanner: well under 0.1 ms). */
  jitterMs?: number;
  /** Probability that a pulse is lost on the way (tests the missed-trigger handling). */
  dropProbability?: number;
  /** Delay from the start of a sequence to its first pulse. */
  startDelayMs?: number;
  seed?: number;
}

/**
 * A scanner that pulses every TR once a sequence begins (the operator starting the scan). Pulses
 * are placed at absolute times start + k x TR (+ jitter), so timer lateness does not accumulate,
 * and each is reported with its due time (see below).
 */
export class EmulatedScanner implements TriggerSource {
  readonly kind = 'emulator' as const;
  readonly description: string;
  private emit: ((serverMs: number) => void) | null = null;
  private timer: TimerHandle | null = null;
  private readonly uniform;
  private readonly normal;
  /** Pulses sent in the current sequence, dropped ones included. */
  sent = 0;
  dropped = 0;
  /** Largest delay between a pulse's due time and the callback that sent it, ms. */
  lateMs = 0;

  constructor(
    private readonly clock: Clock,
    private readonly options: EmulatorOptions,
  ) {
    this.description = `scanner emulator (TR ${options.repetitionTimeS} s${options.jitterMs ? `, jitter ${options.jitterMs} ms` : ''}${options.dropProbability ? `, drops ${options.dropProbability}` : ''})`;
    this.uniform = createRng(options.seed ?? 1);
    this.normal = createNormalRng((options.seed ?? 1) + 1);
  }

  async start(emit: (serverMs: number) => void): Promise<void> {
    this.emit = emit;
  }

  beginSequence(volumes: number): void {
    this.endSequence();
    this.sent = 0;
    this.dropped = 0;
    const start = this.clock.now() + (this.options.startDelayMs ?? 500);
    const trMs = this.options.repetitionTimeS * 1000;
    const next = (k: number) => {
      if (k >= volumes) {
        this.timer = null;
        return;
      }
      const due = start + k * trMs + (this.options.jitterMs ? this.normal() * this.options.jitterMs : 0);
      this.timer = this.clock.setTimer(Math.max(0, due - this.clock.now()), () => {
        this.sent++;
        if (this.options.dropProbability && this.uniform() < this.options.dropProbability) this.dropped++;
        // The pulse's own time, like a hardware-timestamped trigger input: a loaded event loop
        // that runs this callback late must not move the scanner's clock. `lateMs` keeps the delay.
        else {
          this.lateMs = Math.max(this.lateMs, this.clock.now() - due);
          this.emit?.(Math.min(due, this.clock.now()));
        }
        next(k + 1);
      });
    };
    next(0);
  }

  endSequence(): void {
    this.timer?.cancel();
    this.timer = null;
  }

  async stop(): Promise<void> {
    this.endSequence();
    this.emit = null;
  }
}
