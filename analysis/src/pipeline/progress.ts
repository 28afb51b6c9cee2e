/**
 * A progress bar whose total is known only when the work starts (e.g. searchlight centres): made
 * on the first update, stopped once (stop is safe to call when it never started).
 */
import { createProgress, type Progress } from '@orthostim/protocol/cli';

export interface LazyProgress {
  update(done: number, total: number): void;
  stop(): void;
}

export function lazyProgress(label: string): LazyProgress {
  let bar: Progress | undefined;
  let stopped = false;
  return {
    update(done, total) {
      if (stopped) return;
      bar ??= createProgress(label, total);
      bar.update(done);
    },
    stop() {
      if (!stopped) bar?.stop();
      stopped = true;
    },
  };
}
