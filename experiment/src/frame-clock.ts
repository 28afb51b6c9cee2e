/**
 * Frame timing on the display. `RequestFrame` is requestAnimationFrame (injected so tests drive
 * frames by hand); its timestamp is the frame's time on the display clock (performance.now()).
 */
export type RequestFrame = (callback: (frameMs: number) => void) => unknown;

export const browserRequestFrame: RequestFrame = (cb) => requestAnimationFrame(cb);

/**
 * Is this frame the one whose time is nearest `targetMs`? Yes once the next frame would be
 * further away: target - frame <= period / 2 (and any frame after the target, when late).
 */
export function isNearestFrame(frameMs: number, targetMs: number, framePeriodMs: number): boolean {
  return targetMs - frameMs <= framePeriodMs / 2;
}

/** Median frame interval over `frames` frames (ms) and the rate it implies (Hz). */
export function measureFramePeriod(
  requestFrame: RequestFrame,
  frames = 60,
): Promise<{ framePeriodMs: number; refreshHz: number }> {
  return new Promise((resolve) => {
    const times: number[] = [];
    const step = (t: number) => {
      times.push(t);
      if (times.length <= frames) {
        requestFrame(step);
        return;
      }
      const d = times
        .slice(1)
        .map((x, i) => x - times[i]!)
        .sort((a, b) => a - b);
      const framePeriodMs = d[d.length >> 1]!;
      resolve({ framePeriodMs, refreshHz: 1000 / framePeriodMs });
    };
    requestFrame(step);
  });
}
