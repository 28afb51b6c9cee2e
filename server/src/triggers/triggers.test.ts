import { describe, expect, it } from 'vitest';
import { SerialPortMock } from 'serialport';
import { defaultSessionConfig } from '@orthostim/protocol';
import { FakeClock } from '../clock';
import {
  EmulatedScanner,
  SerialTriggerSource,
  createTriggerSource,
  parseTriggerSpec,
  type SerialPortLike,
} from './index';

describe('EmulatedScanner', () => {
  it('pulses at start + k x TR, computed from the start (no accumulated lateness), and stops', async () => {
    const clock = new FakeClock(0);
    const got: number[] = [];
    const s = new EmulatedScanner(clock, { repetitionTimeS: 0.5, startDelayMs: 100 });
    await s.start((t) => got.push(t));
    s.beginSequence(4);
    clock.advance(5000);
    expect(got).toEqual([100, 600, 1100, 1600]);
    expect(clock.pendingTimers()).toBe(0);
  });
  it('drops pulses with the given probability, reproducibly, and reports them', async () => {
    const clock = new FakeClock(0);
    const got: number[] = [];
    const s = new EmulatedScanner(clock, { repetitionTimeS: 1, startDelayMs: 0, dropProbability: 0.3, seed: 3 });
    await s.start((t) => got.push(t));
    s.beginSequence(200);
    clock.advance(300_000);
    expect(s.sent).toBe(200);
    expect(got.length + s.dropped).toBe(200);
    expect(s.dropped / 200).toBeGreaterThan(0.2);
    expect(s.dropped / 200).toBeLessThan(0.4);
    // Every pulse that arrived is still on the TR grid.
    for (const t of got) expect(t % 1000).toBe(0);
  });
  it('endSequence stops pulsing', async () => {
    const clock = new FakeClock(0);
    const got: number[] = [];
    const s = new EmulatedScanner(clock, { repetitionTimeS: 1, startDelayMs: 0 });
    await s.start((t) => got.push(t));
    s.beginSequence(10);
    clock.advance(2500);
    s.endSequence();
    clock.advance(10_000);
    expect(got).toEqual([0, 1000, 2000]);
  });
});

describe('SerialTriggerSource', () => {
  it('timestamps each trigger byte on arrival and ignores other bytes', async () => {
    SerialPortMock.binding.createPort('/dev/FAKE0');
    const clock = new FakeClock(500);
    let port: SerialPortMock | undefined;
    const src = new SerialTriggerSource(clock, {
      path: '/dev/FAKE0',
      baudRate: 9600,
      character: '5',
      open: ({ path, baudRate }) =>
        new Promise<SerialPortLike>((resolve, reject) => {
          port = new SerialPortMock({ path, baudRate }, (err) => (err ? reject(err) : resolve(port!)));
        }),
    });
    const got: number[] = [];
    const received = new Promise<void>((resolve) =>
      src.start((t) => {
        got.push(t);
        if (got.length === 3) resolve();
      }),
    );
    await new Promise((r) => setImmediate(r));
    while (!port) await new Promise((r) => setImmediate(r));
    port.port!.emitData(Buffer.from('5x5'));
    // The mock delivers data asynchronously: wait for the first two before moving the clock.
    while (got.length < 2) await new Promise((r) => setTimeout(r, 1));
    clock.advance(2000);
    port.port!.emitData(Buffer.from('a5'));
    await received;
    expect(got).toEqual([500, 500, 2500]);
    await src.stop();
  });
});

describe('trigger specs', () => {
  it('parses the --trigger forms and refuses others naming the value', () => {
    expect(parseTriggerSpec('serial:/dev/ttyUSB0@57600')).toEqual({
      kind: 'serial',
      path: '/dev/ttyUSB0',
      baudRate: 57600,
    });
    expect(parseTriggerSpec('serial:COM3')).toEqual({ kind: 'serial', path: 'COM3', baudRate: null });
    expect(parseTriggerSpec('keyboard')).toEqual({ kind: 'keyboard' });
    expect(() => parseTriggerSpec('usb')).toThrow(
      /--trigger must be serial:<path>\[@baud\], keyboard or emulator; got "usb"/,
    );
  });
  it('builds each kind from the registry', () => {
    const ctx = { clock: new FakeClock(), config: defaultSessionConfig() };
    expect(createTriggerSource({ kind: 'keyboard' }, ctx).kind).toBe('keyboard');
    expect(createTriggerSource({ kind: 'emulator' }, ctx).description).toMatch(/TR 2 s/);
    expect(createTriggerSource({ kind: 'serial', path: '/dev/x', baudRate: null }, ctx).description).toBe(
      'serial /dev/x @ 115200 baud, trigger byte "5"',
    );
  });
});
