import { describe, expect, it } from 'vitest';

// @jspsych/test-utils' expectFinished/expectRunning call the global `expect`.
(globalThis as unknown as { expect: typeof expect }).expect = expect;
import { initJsPsych } from 'jspsych';
import { startTimeline, flushPromises } from '@jspsych/test-utils';
import { OnsetStampExtension, type StampedChange } from './extension-onset-stamp';
import { ScannerImagePlugin } from './plugin-scanner-image';
import { FakeFrames } from './test-frames';

describe('OnsetStampExtension', () => {
  it('converts frame times to the server clock, reports each change at once, and adds scanner-time onsets to the data', async () => {
    const frames = new FakeFrames(0, 10);
    const reported: StampedChange[] = [];
    // server = display + 5000; time zero at server 6000 (display 1000); latency 7 ms.
    const jsPsych = initJsPsych({
      extensions: [
        {
          type: OnsetStampExtension,
          params: {
            toServerMs: (d: number) => d + 5000,
            toScannerS: (s: number) => (s - 6000) / 1000,
            report: (c: StampedChange) => reported.push(c),
            latencyMs: 7,
          },
        },
      ],
    });
    const { expectFinished, getData } = await startTimeline(
      [
        {
          type: ScannerImagePlugin,
          stimulus: 'x.png',
          schedule_index: 0,
          planned_onset_s: 0.5,
          duration_ms: 100,
          scanner_to_display_ms: (s: number) => 1000 + s * 1000,
          frame_period_ms: 10,
          request_frame: frames.request,
          extensions: [{ type: OnsetStampExtension }],
        },
      ],
      jsPsych,
    );
    while (frames.nowMs < 1500) frames.frame();
    // The onset is reported as soon as its frame happens, before the trial ends.
    expect(reported.map((r) => [r.kind, r.serverMs])).toEqual([['onset', 6500]]);
    while (frames.nowMs < 1700) frames.frame();
    await flushPromises();
    await expectFinished();
    expect(reported.map((r) => [r.kind, r.serverMs])).toEqual([
      ['onset', 6500],
      ['offset', 6600],
    ]);
    const d = getData().values()[0]!;
    expect(d.onset_server_ms).toBe(6500);
    expect(d.onset_scanner_s).toBeCloseTo(0.507, 9); // (6500 + 7 - 6000) / 1000
    expect(d.onset_error_ms).toBeCloseTo(7, 6);
    expect(d.offset_server_ms).toBe(6600);
  });
});
