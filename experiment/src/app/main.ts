/**
 * Entry of the participant display bundle (built by the server with esbuild). Connects to the
 * session server with the page's token, and wires socket messages, keys and focus to DisplayApp.
 */
import { io } from 'socket.io-client';
import type { RunAnnouncement, TriggerMessage } from '@orthostim/protocol';
import { SessionClient } from '../session-client';
import { DisplayApp } from './display-app';

const token = new URLSearchParams(location.search).get('token') ?? undefined;
const socket = io({
  auth: { role: 'display', token },
  transports: ['websocket'],
  reconnectionDelay: 250,
  reconnectionDelayMax: 2000,
});
let storage: Storage | null = null;
try {
  storage = window.localStorage;
} catch {
  storage = null; // storage disabled: events still resend across reconnects, not across reloads
}
const client = new SessionClient(socket, {
  now: () => performance.now(),
  storage,
  hello: () => ({
    userAgent: navigator.userAgent.slice(0, 512),
    screenWidth: Math.round(screen.width),
    screenHeight: Math.round(screen.height),
    innerWidth: Math.round(innerWidth),
    innerHeight: Math.round(innerHeight),
    devicePixelRatio: devicePixelRatio || 1,
  }),
});
const app = new DisplayApp(
  client,
  document.getElementById('orthostim-jspsych')!,
  document.getElementById('orthostim-message')!,
);

socket.on('connect', () => app.showMessage(''));
client.whenHello((reply) => {
  if (reply.role === 'second-display')
    app.showMessage(
      'Another display is already connected to this session: this page shows nothing and records nothing.',
    );
});
socket.on('disconnect', () => app.showMessage(''));
socket.on('connect_error', (err: Error) => app.showMessage(`Cannot connect to the session server: ${err.message}`));
socket.on('trigger', (m: TriggerMessage) => app.onTrigger(m));
socket.on('run:announce', (run: RunAnnouncement) => {
  // Announcements can come before the first clock estimate: wait for the hello and sync burst.
  const start = () =>
    void app.onAnnounce(run).catch((err: Error) => {
      app.showMessage(`Run ${run.runId} failed: ${err.message}`);
      client.sendFailed(run.runId, err.message);
    });
  if (client.offsetMs !== null) start();
  else client.whenSynced(start);
});
socket.on('run:ended', (m: { runId: string; state: string }) => app.onEnded(m));
// Capture phase on window: keys are seen whatever element has focus.
window.addEventListener('keydown', (e) => app.onKey(e), { capture: true });
window.addEventListener('blur', () => app.onFocusChange());
window.addEventListener('focus', () => app.onFocusChange());
document.addEventListener('visibilitychange', () => app.onFocusChange());
// Exposed for diagnostics and the end-to-end tests.
(window as unknown as { orthostim: unknown }).orthostim = { client, app, socket };
