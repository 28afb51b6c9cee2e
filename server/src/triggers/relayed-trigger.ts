import type { TriggerKind, TriggerSource } from './trigger-source';

/**
 * A source whose triggers are handed to it: the participant display's keyboard (a trigger box
 * typing `5`; the display timestamps the key event and converts it to the server's clock), or a
 * test script. `push` takes the trigger's time on the server clock.
 */
export class RelayedTriggerSource implements TriggerSource {
  private emit: ((serverMs: number) => void) | null = null;
  constructor(
    readonly kind: Extract<TriggerKind, 'keyboard' | 'scripted'>,
    readonly description: string,
  ) {}
  async start(emit: (serverMs: number) => void): Promise<void> {
    this.emit = emit;
  }
  push(serverMs: number): void {
    this.emit?.(serverMs);
  }
  async stop(): Promise<void> {
    this.emit = null;
  }
}
