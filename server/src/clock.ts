/**
 * The server's monotonic clock and timers, injected so tests drive time by hand (FakeClock)
 * instead of sleeping.
 */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Monotonic milliseconds (never jumps with wall-clock changes). */
  now(): number;
  /** Call `fn` once at or just after `now() + delayMs`. */
  setTimer(delayMs: number, fn: () => void): TimerHandle;
}

/**
 * performance.now() with timers that land within about 0.1 ms: setTimeout to 2 ms before the due
 * time (Node timers fire up to a few ms late), then yield with setImmediate until due. Used for
 * the scanner emulator's pulses and run timeouts.
 */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer(delayMs, fn) {
    const due = performance.now() + delayMs;
    let cancelled = false;
    let timeout: NodeJS.Timeout | undefined;
    let immediate: NodeJS.Immediate | undefined;
    const spin = () => {
      if (cancelled) return;
      if (performance.now() >= due) fn();
      else immediate = setImmediate(spin);
    };
    if (delayMs > 3) timeout = setTimeout(spin, delayMs - 2);
    else immediate = setImmediate(spin);
    return {
      cancel() {
        cancelled = true;
        if (timeout) clearTimeout(timeout);
        if (immediate) clearImmediate(immediate);
      },
    };
  },
};

/** A clock that moves only when told to; `advance` fires due timers in time order. */
export class FakeClock implements Clock {
  private t: number;
  private timers: { due: number; seq: number; fn: () => void; cancelled: boolean }[] = [];
  private seq = 0;
  constructor(startMs = 1000) {
    this.t = startMs;
  }
  now(): number {
    return this.t;
  }
  setTimer(delayMs: number, fn: () => void): TimerHandle {
    const timer = { due: this.t + Math.max(0, delayMs), seq: this.seq++, fn, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => void (timer.cancelled = true) };
  }
  /** Move time forward by `ms`, firing every timer that falls due on the way, in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const live = this.timers
        .filter((x) => !x.cancelled && x.due <= end)
        .sort((a, b) => a.due - b.due || a.seq - b.seq);
      const next = live[0];
      if (!next) break;
      this.t = next.due;
      next.cancelled = true;
      next.fn();
    }
    this.timers = this.timers.filter((x) => !x.cancelled);
    this.t = end;
  }
  pendingTimers(): number {
    return this.timers.filter((x) => !x.cancelled).length;
  }
}
