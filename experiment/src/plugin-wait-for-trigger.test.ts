import { describe, expect, it } from 'vitest';

// @jspsych/test-utils' expectFinished/expectRunning call the global `expect`.
(globalThis as unknown as { expect: typeof expect }).expect = expect;
import { startTimeline, flushPromises } from '@jspsych/test-utils';
import { WaitForTriggerPlugin, type TriggerNotice } from './plugin-wait-for-trigger';

function bus() {
  const listeners = new Set<(t: TriggerNotice) => void>();
  return {
    subscribe: (l: (t: TriggerNotice) => void) => (listeners.add(l), () => listeners.delete(l)),
    push: (t: TriggerNotice) => [...listeners].forEach((l) => l(t)),
    count: () => listeners.size,
  };
}

describe('WaitForTriggerPlugin', () => {
  it('ends on the trigger of its volume, ignoring earlier (dummy) volumes, and unsubscribes', async () => {
    const b = bus();
    const { expectRunning, expectFinished, getData, getHTML } = await startTimeline([
      { type: WaitForTriggerPlugin, volume: 0, subscribe: b.subscribe, html: '<p>+</p>' },
    ]);
    expect(getHTML()).toContain('+');
    b.push({ volume: -2, serverMs: 100 });
    b.push({ volume: -1, serverMs: 600 });
    await flushPromises();
    await expectRunning();
    b.push({ volume: 0, serverMs: 1100 });
    await flushPromises();
    await expectFinished();
    expect(getData().values()[0]).toMatchObject({ volume: 0, trigger_server_ms: 1100 });
    expect(b.count()).toBe(0);
  });

  it('does not wait for a trigger that already arrived', async () => {
    const b = bus();
    const { expectFinished, getData } = await startTimeline([
      { type: WaitForTriggerPlugin, volume: 0, subscribe: b.subscribe, latest: () => ({ volume: 3, serverMs: 42 }) },
    ]);
    await flushPromises();
    await expectFinished();
    expect(getData().values()[0]).toMatchObject({ volume: 3, trigger_server_ms: 42 });
  });
});
