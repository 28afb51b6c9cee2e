import { describe, expect, it } from 'vitest';

// @jspsych/test-utils' expectFinished/expectRunning call the global `expect`.
(globalThis as unknown as { expect: typeof expect }).expect = expect;
import { initJsPsych } from 'jspsych';
import { startTimeline, flushPromises } from '@jspsych/test-utils';
import { ScannerImagePlugin, FRAME_CHANGE_EVENT, type FrameChangeDetail } from './plugin-scanner-image';
import { isNearestFrame } from './frame-clock';
import { FakeFrames } from './test-frames';

describe('isNearestFrame', () => {
  it('picks the frame whose time is nearest the target', () => {
    // frames at 0, 10, 20; target 14: frame 10 is 4 away, frame 20 is 6 away -> 10.
    expect(isNearestFrame(0, 14, 10)).toBe(false);
    expect(isNearestFrame(10, 14, 10)).toBe(true);
    // target 16: frame 20 is nearer (4 vs 6) -> not frame 10.
    expect(isNearestFrame(10, 16, 10)).toBe(false);
    expect(isNearestFrame(20, 16, 10)).toBe(true);
  });
});

describe('ScannerImagePlugin', () => {
  it('shows the image in the frame nearest its onset, hides it after the duration, and flips the fixation colour', async () => {
    const frames = new FakeFrames(0, 10);
    // Scanner time 0 is display time 1003 ms (a trigger anchor): onset 0.1 s -> 1103 ms.
    const toDisplay = (s: number) => 1003 + s * 1000;
    const changes: FrameChangeDetail[] = [];
    const jsPsych = initJsPsych();
    const { displayElement, expectFinished, getData } = await startTimeline(
      [
        {
          type: ScannerImagePlugin,
          stimulus: 'img/a.png',
          schedule_index: 4,
          planned_onset_s: 0.1,
          duration_ms: 50,
          fixation_events: [
            { kind: 'change', index: 2, at_s: 0.12 },
            { kind: 'restore', index: 2, at_s: 0.14 },
          ],
          scanner_to_display_ms: toDisplay,
          frame_period_ms: 10,
          request_frame: frames.request,
        },
      ],
      jsPsych,
    );
    displayElement.addEventListener(FRAME_CHANGE_EVENT, (e) =>
      changes.push((e as CustomEvent<FrameChangeDetail>).detail),
    );
    const img = displayElement.querySelector<HTMLImageElement>('.orthostim-image')!;
    const cross = displayElement.querySelector<HTMLElement>('.orthostim-fixation')!;
    while (frames.nowMs < 1090) frames.frame();
    expect(img.style.visibility).toBe('hidden');
    frames.frame(); // 1100: target 1103 is 3 ms away, the next frame 7 ms -> now
    expect(img.style.visibility).toBe('visible');
    expect(img.getAttribute('src')).toBe('img/a.png');
    frames.frame(); // 1110
    frames.frame(); // 1120: change at 1123 -> now
    expect(cross.style.color).toBe('rgb(255, 0, 0)');
    while (frames.nowMs < 1160) frames.frame(); // restore at 1143 -> frame 1140; offset at 1153 -> frame 1150
    expect(cross.style.color).toBe('rgb(0, 0, 0)');
    expect(img.style.visibility).toBe('hidden');
    await flushPromises();
    await expectFinished();
    expect(changes.map((c) => [c.kind, c.index, c.frameMs])).toEqual([
      ['onset', 4, 1100],
      ['fixation_change', 2, 1120],
      ['fixation_restore', 2, 1140],
      ['offset', 4, 1150],
    ]);
    expect(getData().values()[0]).toMatchObject({
      schedule_index: 4,
      onset_frame_ms: 1100,
      offset_frame_ms: 1150,
      fixation_change_frames_ms: [1120],
      planned_onset_s: 0.1,
    });
  });

  it('waits while time zero is unknown, and re-anchors when a newer trigger moves the target', async () => {
    const frames = new FakeFrames(0, 10);
    let anchor: number | null = null;
    const { displayElement, expectRunning, expectFinished, getData } = await startTimeline([
      {
        type: ScannerImagePlugin,
        stimulus: null,
        planned_onset_s: 2,
        duration_ms: 100,
        scanner_to_display_ms: (s: number) => (anchor === null ? null : anchor + s * 1000),
        frame_period_ms: 10,
        request_frame: frames.request,
      },
    ]);
    for (let i = 0; i < 50; i++) frames.frame();
    await expectRunning();
    anchor = 0; // onset at 2000
    while (frames.nowMs < 1500) frames.frame();
    anchor = -196; // a later trigger says the scanner is 196 ms ahead: onset at 1804
    // Null trial: no image is ever loaded, but the onset frame is stamped.
    expect(displayElement.querySelector<HTMLImageElement>('.orthostim-image')!.getAttribute('src')).toBeNull();
    while (frames.nowMs < 2200) frames.frame();
    await flushPromises();
    await expectFinished();
    expect(getData().values()[0]!.onset_frame_ms).toBe(1800);
  });
});
