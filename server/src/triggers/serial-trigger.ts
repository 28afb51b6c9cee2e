import { InputError } from '@orthostim/protocol';
import type { Clock } from '../clock';
import type { TriggerSource } from './trigger-source';

/** The part of a serialport `SerialPort` this source uses (tests pass `SerialPortMock`). */
export interface SerialPortLike {
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  close(callback?: (err?: Error | null) => void): void;
}
export type OpenSerialPort = (options: { path: string; baudRate: number }) => Promise<SerialPortLike>;

/** Open a real port with the `serialport` package (loaded only when a serial source is used). */
export const openSystemSerialPort: OpenSerialPort = async ({ path, baudRate }) => {
  const { SerialPort } = await import('serialport');
  return new Promise((resolvePort, reject) => {
    const port = new SerialPort({ path, baudRate, autoOpen: false });
    port.open((err) =>
      err
        ? reject(new InputError(`--trigger serial:${path}: cannot open the port (${err.message})`))
        : resolvePort(port),
    );
  });
};

/**
 * A trigger box on a serial port that sends one byte (`character`, default `5`) per volume. The
 * trigger is timestamped when its byte arrives; other bytes are ignored.
 */
export class SerialTriggerSource implements TriggerSource {
  readonly kind = 'serial' as const;
  readonly description: string;
  private port: SerialPortLike | null = null;
  private readonly code: number;
  constructor(
    private readonly clock: Clock,
    private readonly options: { path: string; baudRate: number; character: string; open?: OpenSerialPort },
  ) {
    this.description = `serial ${options.path} @ ${options.baudRate} baud, trigger byte ${JSON.stringify(options.character)}`;
    this.code = options.character.charCodeAt(0);
  }
  async start(emit: (serverMs: number) => void): Promise<void> {
    this.port = await (this.options.open ?? openSystemSerialPort)({
      path: this.options.path,
      baudRate: this.options.baudRate,
    });
    this.port.on('data', (chunk: Buffer) => {
      const t = this.clock.now();
      for (const byte of chunk) if (byte === this.code) emit(t);
    });
    this.port.on('error', (err: Error) =>
      process.stderr.write(`orthostim: serial trigger port ${this.options.path}: ${err.message}\n`),
    );
  }
  async stop(): Promise<void> {
    const port = this.port;
    this.port = null;
    if (port) await new Promise<void>((r) => port.close(() => r()));
  }
}
