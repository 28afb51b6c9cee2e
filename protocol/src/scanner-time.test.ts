import { describe, expect, it } from 'vitest';
import { scannerToServerMs, volumeAt } from './scanner-time';

describe('scannerToServerMs', () => {
  const tr = 2;
  // The server clock runs 0.1% slow relative to the scanner: triggers arrive every 1998 ms.
  const triggers = [-1, 0, 1, 2, 3].map((v) => ({ volume: v, serverMs: 10_000 + v * 1998 }));
  it('anchors to the most recent trigger at or before the time', () => {
    expect(scannerToServerMs(0, triggers, tr)).toBe(10_000);
    expect(scannerToServerMs(4, triggers, tr)).toBe(10_000 + 2 * 1998);
    expect(scannerToServerMs(5, triggers, tr)).toBe(10_000 + 2 * 1998 + 1000);
    // Beyond the last trigger: extrapolate from it (no drift from volume 0).
    expect(scannerToServerMs(9, triggers, tr)).toBe(10_000 + 3 * 1998 + 3000);
  });
  it('is null before time zero is known', () => {
    expect(scannerToServerMs(0, [{ volume: -1, serverMs: 5 }], tr)).toBeNull();
    expect(scannerToServerMs(3, [], tr)).toBeNull();
  });
  it('numbers volumes by rounding elapsed TRs, so a dropped pulse does not shift later ones', () => {
    expect(volumeAt(10_000 + 2 * 2000 + 30, 10_000, tr)).toBe(2);
    expect(volumeAt(10_000 + 5 * 2000 - 40, 10_000, tr)).toBe(5);
  });
});
