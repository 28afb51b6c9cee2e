/**
 * Where scanner triggers come from. The session server timestamps each one with its monotonic
 * clock (or takes the time a relaying source measured) and numbers it; a source only reports.
 */
export type TriggerKind = 'emulator' | 'serial' | 'keyboard' | 'scripted';

export interface TriggerSource {
  readonly kind: TriggerKind;
  /** For the operator page and the log: "serial /dev/ttyUSB0 @ 115200 baud". */
  readonly description: string;
  /** Open the source; call `emit(serverMs)` for every trigger from now on. */
  start(emit: (serverMs: number) => void): Promise<void>;
  /** A run is armed and the display is ready: an emulated scanner starts pulsing `volumes` times. */
  beginSequence?(volumes: number): void;
  /** The run ended or was aborted: an emulated scanner stops. */
  endSequence?(): void;
  stop(): Promise<void>;
}
