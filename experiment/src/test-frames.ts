import type { RequestFrame } from './frame-clock';

/** A display whose frames advance only when a test says so (a fake requestAnimationFrame). */
export class FakeFrames {
  private queue: ((t: number) => void)[] = [];
  constructor(
    public nowMs = 0,
    readonly periodMs = 1000 / 60,
  ) {}
  readonly request: RequestFrame = (cb) => {
    this.queue.push(cb);
  };
  /** Run the callbacks queued for the next frame, at its time. */
  frame(): number {
    this.nowMs += this.periodMs;
    const q = this.queue.splice(0);
    for (const cb of q) cb(this.nowMs);
    return this.nowMs;
  }
}
