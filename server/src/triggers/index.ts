import { UsageError, type SessionConfig } from '@orthostim/protocol';
import type { Clock } from '../clock';
import { EmulatedScanner, type EmulatorOptions } from './emulated-scanner';
import { RelayedTriggerSource } from './relayed-trigger';
import { SerialTriggerSource, type OpenSerialPort } from './serial-trigger';
import type { TriggerSource } from './trigger-source';

export * from './trigger-source';
export * from './emulated-scanner';
export * from './relayed-trigger';
export * from './serial-trigger';

export type TriggerSpec =
  | { kind: 'emulator' }
  | { kind: 'keyboard' }
  | { kind: 'serial'; path: string; baudRate: number | null };

/** `--trigger serial:<path>[@baud] | keyboard` (and `emulator`, which --emulate-scanner selects). */
export function parseTriggerSpec(spec: string): TriggerSpec {
  if (spec === 'keyboard' || spec === 'emulator') return { kind: spec };
  const m = /^serial:([^@]+)(?:@(\d+))?$/.exec(spec);
  if (m) return { kind: 'serial', path: m[1]!, baudRate: m[2] ? Number(m[2]) : null };
  throw new UsageError(`--trigger must be serial:<path>[@baud], keyboard or emulator; got ${JSON.stringify(spec)}`);
}

export interface TriggerSourceContext {
  clock: Clock;
  config: SessionConfig;
  emulator?: Omit<EmulatorOptions, 'repetitionTimeS'>;
  openSerial?: OpenSerialPort;
}

/** Factories by kind (a registry, so --help and errors can list the kinds). */
export const TRIGGER_SOURCES = {
  emulator: (_spec, ctx) =>
    new EmulatedScanner(ctx.clock, { repetitionTimeS: ctx.config.repetitionTimeS, ...ctx.emulator }),
  keyboard: (_spec, ctx) =>
    new RelayedTriggerSource(
      'keyboard',
      `keyboard of the participant display (key ${JSON.stringify(ctx.config.trigger.key)})`,
    ),
  serial: (spec, ctx) => {
    const s = spec as Extract<TriggerSpec, { kind: 'serial' }>;
    return new SerialTriggerSource(ctx.clock, {
      path: s.path,
      baudRate: s.baudRate ?? ctx.config.trigger.serialBaudRate,
      character: ctx.config.trigger.serialCharacter,
      open: ctx.openSerial,
    });
  },
} satisfies Record<TriggerSpec['kind'], (spec: TriggerSpec, ctx: TriggerSourceContext) => TriggerSource>;

export function createTriggerSource(spec: TriggerSpec, ctx: TriggerSourceContext): TriggerSource {
  return TRIGGER_SOURCES[spec.kind](spec, ctx);
}
