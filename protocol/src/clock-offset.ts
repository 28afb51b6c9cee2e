/**
 * Clock offset between the display and the server from ping round trips. A sample is one ping:
 * the display's clock when it sent (`sentMs`) and when the answer came back (`receivedMs`), and
 * the server's clock when it answered (`serverMs`). Assuming the two legs take equal time, the
 * server's clock read `serverMs` at display time (sentMs + receivedMs) / 2. Slow round trips carry
 * queueing delay on one leg, so only the fastest ones are used.
 */
export interface ClockSample {
  sentMs: number;
  receivedMs: number;
  serverMs: number;
}

export interface ClockOffsetEstimate {
  /** serverTime = displayTime + offsetMs. */
  offsetMs: number;
  /** Round trip of the fastest sample: the offset's error is at most half of it. */
  minRttMs: number;
  /** Samples the estimate used. */
  used: number;
}

/**
 * Median offset of the `fastest` samples with the shortest round trips (default: the fastest
 * quarter, at least 1, at most 10). Throws on an empty list: there is no estimate without data.
 */
export function estimateClockOffset(samples: readonly ClockSample[], fastest?: number): ClockOffsetEstimate {
  const valid = samples.filter((s) => s.receivedMs >= s.sentMs && Number.isFinite(s.serverMs));
  if (valid.length === 0) throw new Error('estimateClockOffset: no valid samples (need receivedMs >= sentMs)');
  const k = Math.max(1, Math.min(valid.length, fastest ?? Math.min(10, Math.ceil(valid.length / 4))));
  const byRtt = valid
    .map((s) => ({ rtt: s.receivedMs - s.sentMs, offset: s.serverMs - (s.sentMs + s.receivedMs) / 2 }))
    .sort((a, b) => a.rtt - b.rtt)
    .slice(0, k);
  const offsets = byRtt.map((s) => s.offset).sort((a, b) => a - b);
  const mid = offsets.length >> 1;
  const offsetMs = offsets.length % 2 ? offsets[mid]! : (offsets[mid - 1]! + offsets[mid]!) / 2;
  return { offsetMs, minRttMs: byRtt[0]!.rtt, used: k };
}
