import { randomBytes } from 'node:crypto';
import type { DisplayHello } from '@orthostim/protocol';

/** One socket that said `display:hello`. */
export interface DisplayConnection {
  connectionId: string;
  clientId: string;
  secret: string;
  hello: DisplayHello;
}

export type DisplayRole = 'display' | 'second-display';

/**
 * Which connection is the participant display. The server gives each display a secret at its
 * first hello; the display sends it again at every hello (a reload or reconnect), so it keeps its
 * role. A run is bound to the secret of the display connected when it was armed (or of the first
 * display to connect after). Any other display is a second display: listed for the operator,
 * never allowed to write into a run.
 */
export class DisplayRegistry {
  private connections = new Map<string, DisplayConnection>();
  private issued = new Set<string>();
  /** The secret of the display that presents runs. */
  private displaySecret: string | null = null;

  /** A hello: keep a secret this server issued, else issue one; decide the role (`boundSecret`: the current run's). */
  hello(connectionId: string, hello: DisplayHello, boundSecret: string | null): { secret: string; role: DisplayRole } {
    const secret = hello.secret && this.issued.has(hello.secret) ? hello.secret : randomBytes(24).toString('base64url');
    this.issued.add(secret);
    const { secret: _sent, ...shown } = hello;
    this.connections.set(connectionId, { connectionId, clientId: hello.clientId, secret, hello: shown });
    const free = !this.displayConnected() && (boundSecret === null || boundSecret === secret);
    if (secret === this.displaySecret || free) this.displaySecret = secret;
    return { secret, role: this.isDisplay(connectionId) ? 'display' : 'second-display' };
  }

  /** The connection left; returns it (null when it never said hello). */
  gone(connectionId: string): DisplayConnection | null {
    const c = this.connections.get(connectionId) ?? null;
    this.connections.delete(connectionId);
    return c;
  }

  isDisplay(connectionId: string): boolean {
    const c = this.connections.get(connectionId);
    return c !== undefined && c.secret === this.displaySecret;
  }

  get(connectionId: string): DisplayConnection | null {
    return this.connections.get(connectionId) ?? null;
  }

  /** The secret a run armed now is bound to (null: no display connected; the next one to connect takes it). */
  get currentSecret(): string | null {
    return this.displayConnected() ? this.displaySecret : null;
  }

  /** The participant display's newest connection. */
  display(): DisplayConnection | null {
    const all = [...this.connections.values()].filter((c) => c.secret === this.displaySecret);
    return all[all.length - 1] ?? null;
  }

  displayConnected(): boolean {
    return this.display() !== null;
  }

  /** Displays connected that are not the participant display. */
  secondDisplays(): DisplayConnection[] {
    return [...this.connections.values()].filter((c) => c.secret !== this.displaySecret);
  }
}
