/**
 * Scanner time: seconds from time zero, the trigger of the first volume stored in the BOLD file.
 * A planned onset in scanner time is placed on the server's clock relative to the most recent
 * received trigger at or before it (re-anchoring), so a small rate difference between the
 * scanner's clock and the server's, or a drifting emulator, never accumulates over a run.
 */
export interface VolumeTrigger {
  /** Volume number counted from time zero (0 = first stored volume; dummies are negative). */
  volume: number;
  /** Server clock (ms) when the trigger arrived. */
  serverMs: number;
}

/**
 * Server time of scanner time `scannerS` given triggers sorted by volume; null before time zero
 * is known (no trigger at or before `scannerS` with volume >= 0).
 */
export function scannerToServerMs(
  scannerS: number,
  triggers: readonly VolumeTrigger[],
  repetitionTimeS: number,
): number | null {
  for (let i = triggers.length - 1; i >= 0; i--) {
    const t = triggers[i]!;
    if (t.volume < 0) break;
    // A tolerance of 1 us keeps floating-point noise from skipping the trigger of the onset volume.
    if (t.volume * repetitionTimeS <= scannerS + 1e-6)
      return t.serverMs + (scannerS - t.volume * repetitionTimeS) * 1000;
  }
  return null;
}

/**
 * Volume number of a trigger arriving at `serverMs` given time zero, by rounding the elapsed time
 * to whole TRs, so a dropped pulse does not shift the count of every later one.
 */
export function volumeAt(serverMs: number, t0ServerMs: number, repetitionTimeS: number): number {
  return Math.round((serverMs - t0ServerMs) / (repetitionTimeS * 1000));
}
