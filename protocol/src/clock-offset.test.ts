import { describe, expect, it } from 'vitest';
import { createRng } from '@orthostim/rdm';
import { estimateClockOffset, type ClockSample } from './clock-offset';

describe('estimateClockOffset', () => {
  it('recovers a planted offset from asymmetric, noisy round trips using the fastest ones', () => {
    const trueOffset = 123456.789; // server = display + offset
    const rng = createRng(5);
    const samples: ClockSample[] = [];
    let t = 1000;
    for (let i = 0; i < 200; i++) {
      // Each leg: 0.2 ms base plus exponential queueing delay, up to tens of ms.
      const up = 0.2 + -Math.log(1 - rng()) * (i % 5 === 0 ? 0.05 : 8);
      const down = 0.2 + -Math.log(1 - rng()) * (i % 5 === 0 ? 0.05 : 8);
      const sentMs = t;
      const serverMs = sentMs + up + trueOffset;
      const receivedMs = sentMs + up + down;
      samples.push({ sentMs, receivedMs, serverMs });
      t += 50;
    }
    const est = estimateClockOffset(samples);
    // The fast samples are nearly symmetric: error well under 0.1 ms.
    expect(Math.abs(est.offsetMs - trueOffset)).toBeLessThan(0.1);
    // Averaging all samples would be far off because slow legs are asymmetric.
    const naive = samples.reduce((s, x) => s + x.serverMs - (x.sentMs + x.receivedMs) / 2, 0) / samples.length;
    expect(Math.abs(est.offsetMs - trueOffset)).toBeLessThan(Math.abs(naive - trueOffset));
    expect(est.used).toBe(10);
    expect(est.minRttMs).toBeGreaterThanOrEqual(0.4);
  });

  it('takes the median of the fastest samples (hand-computed)', () => {
    const s = [
      { sentMs: 0, receivedMs: 2, serverMs: 11 }, // rtt 2, offset 10
      { sentMs: 10, receivedMs: 11, serverMs: 22.5 }, // rtt 1, offset 12
      { sentMs: 20, receivedMs: 21, serverMs: 30.5 }, // rtt 1, offset 10
      { sentMs: 30, receivedMs: 31, serverMs: 42 }, // rtt 1, offset 11.5
      { sentMs: 40, receivedMs: 90, serverMs: 500 }, // rtt 50: ignored
    ];
    expect(estimateClockOffset(s, 3)).toEqual({ offsetMs: 11.5, minRttMs: 1, used: 3 });
    expect(estimateClockOffset(s, 4).offsetMs).toBe((10 + 11.5) / 2);
  });

  it('throws without valid samples', () => {
    expect(() => estimateClockOffset([])).toThrow(/no valid samples/);
    expect(() => estimateClockOffset([{ sentMs: 5, receivedMs: 4, serverMs: 0 }])).toThrow(/no valid samples/);
  });
});
