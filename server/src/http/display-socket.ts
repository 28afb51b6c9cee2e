import {
  displayEventBatchSchema,
  displayFailedSchema,
  displayHelloSchema,
  displayReadySchema,
  type DisplayToServerEvents,
  type ServerToDisplayEvents,
  type SessionConfig,
} from '@orthostim/protocol';
import type { Server as SocketServer } from 'socket.io';
import type { Clock } from '../clock';
import type { Session } from '../session';
import type { TriggerSource } from '../triggers';

/**
 * The display's socket messages, each validated, then handed to the session with the socket's
 * id: the session decides whether this connection is the run's display. Only sockets whose hello
 * made them the display join the `display` room (announcements and triggers go there).
 */
export function attachDisplaySocket(
  io: SocketServer<DisplayToServerEvents, ServerToDisplayEvents>,
  session: Session,
  o: { clock: Clock; config: SessionConfig; triggerSource: TriggerSource },
): void {
  io.on('connection', (socket) => {
    socket.on('display:hello', (hello, ack) => {
      const parsed = displayHelloSchema.safeParse(hello);
      if (!parsed.success || typeof ack !== 'function') return void socket.disconnect(true);
      const { secret, role } = session.displayHello(socket.id, parsed.data);
      if (role === 'display') void socket.join('display');
      ack({
        serverMs: o.clock.now(),
        secret,
        role,
        triggerKey: o.triggerSource.kind === 'keyboard' ? o.config.trigger.key : null,
        responseKeys: o.config.fixation.responseKeys,
      });
      const run = role === 'display' ? session.currentAnnouncement() : null;
      if (run) socket.emit('run:announce', run);
    });
    socket.on('clock:ping', (_sentMs, ack) => {
      if (typeof ack === 'function') ack(o.clock.now());
    });
    socket.on('display:ready', (ready) => {
      const parsed = displayReadySchema.safeParse(ready);
      if (parsed.success) session.displayReadyEvent(socket.id, parsed.data);
    });
    socket.on('display:failed', (failure) => {
      const parsed = displayFailedSchema.safeParse(failure);
      if (parsed.success) session.displayFailedEvent(socket.id, parsed.data);
    });
    socket.on('display:events', (events, ack) => {
      const batch = displayEventBatchSchema.safeParse(events);
      if (!batch.success || typeof ack !== 'function') return;
      ack(session.displayEvents(socket.id, batch.data).stored);
    });
    socket.on('disconnect', () => session.displayGone(socket.id));
  });
}
