import { z } from 'zod';
import type { RunSchedule } from './schedule';
import type { SessionConfig } from './session-config';
import type { VolumeTrigger } from './scanner-time';

/**
 * What the session server and the participant display say to each other over socket.io. Every
 * message from the display is validated against these schemas (with size limits) before the
 * server looks at it; the server's own messages are typed only.
 */
export const LIMITS = {
  /** socket.io maxHttpBufferSize for the session socket, bytes. */
  maxMessageBytes: 256 * 1024,
  /** Events in one `display:events` batch (the resend buffer may flush many at once). */
  maxEventsPerBatch: 2000,
  /** JSON body of an API call, bytes. */
  maxApiBodyBytes: 16 * 1024,
} as const;

const id = z.string().min(1).max(128);
const ms = z.number().finite();
const runId = id.nullable();

const base = { id: z.string().min(1).max(64), runId };

/** Frame time of a display change (display clock ms) and the same on the server's clock. */
const frame = { frameMs: ms, serverMs: ms };

export const displayEventSchema = z.discriminatedUnion('type', [
  z.strictObject({
    ...base,
    type: z.literal('onset'),
    trialIndex: z.number().int().min(0).max(100000),
    kind: z.enum(['image', 'null']),
    ...frame,
  }),
  z.strictObject({ ...base, type: z.literal('offset'), trialIndex: z.number().int().min(0).max(100000), ...frame }),
  z.strictObject({
    ...base,
    type: z.literal('fixation_change'),
    changeIndex: z.number().int().min(0).max(100000),
    ...frame,
  }),
  z.strictObject({ ...base, type: z.literal('response'), key: z.string().min(1).max(16), eventMs: ms, serverMs: ms }),
  z.strictObject({ ...base, type: z.literal('key_trigger'), eventMs: ms, serverMs: ms }),
  z.strictObject({
    ...base,
    type: z.literal('trigger_received'),
    seq: z.number().int().min(0),
    receivedMs: ms,
    serverMs: ms,
  }),
  z.strictObject({
    ...base,
    type: z.literal('clock_sync'),
    sentMs: ms,
    receivedMs: ms,
    serverAnswerMs: ms,
    offsetMs: ms,
    minRttMs: ms,
  }),
  z.strictObject({
    ...base,
    type: z.literal('focus'),
    focused: z.boolean(),
    visible: z.boolean(),
    eventMs: ms,
    serverMs: ms,
  }),
  z.strictObject({ ...base, type: z.literal('complete'), trialsShown: z.number().int().min(0), serverMs: ms }),
]);
export type DisplayEvent = z.infer<typeof displayEventSchema>;
export type DisplayEventType = DisplayEvent['type'];
export const displayEventBatchSchema = z.array(z.unknown()).max(LIMITS.maxEventsPerBatch);

export const displayHelloSchema = z.strictObject({
  clientId: z.string().min(1).max(64),
  userAgent: z.string().max(512),
  screenWidth: z.number().int().min(0).max(100000),
  screenHeight: z.number().int().min(0).max(100000),
  innerWidth: z.number().int().min(0).max(100000),
  innerHeight: z.number().int().min(0).max(100000),
  devicePixelRatio: z.number().positive().max(64),
  /** The secret the server gave this display at an earlier hello (a reload or reconnect keeps it). */
  secret: z.string().min(1).max(128).optional(),
});
export type DisplayHello = z.infer<typeof displayHelloSchema>;

export const displayReadySchema = z.strictObject({
  runId: id,
  refreshHz: z.number().positive().max(1000),
  framePeriodMs: z.number().positive().max(1000),
  imagesLoaded: z.number().int().min(0),
});
export type DisplayReady = z.infer<typeof displayReadySchema>;

/** The display could not present an armed run (an image failed to load): the server ends the arm as `failed`. */
export const displayFailedSchema = z.strictObject({
  runId: id,
  reason: z.string().min(1).max(512),
});
export type DisplayFailed = z.infer<typeof displayFailedSchema>;

/** Body of `POST /api/runs`. */
export const armRunRequestSchema = z.strictObject({
  participant: z.string().max(70),
  session: z.string().max(70).optional(),
  task: z.string().max(70).default('orthostim'),
  run: z.number().int().min(1).max(999),
  seed: z.number().int().min(0).max(0xffffffff).optional(),
});
export type ArmRunRequest = z.infer<typeof armRunRequestSchema>;

/**
 * `failed`: the display could not present the armed run (it reported why; the operator page shows it).
 * `incomplete`: the server stopped during the run (closed at its next start).
 */
export const RUN_STATES = ['armed', 'running', 'finished', 'aborted', 'incomplete', 'failed'] as const;
export type RunState = (typeof RUN_STATES)[number];

export interface RunLabels {
  participant: string;
  session: string | null;
  task: string;
  run: number;
}

/** `GET /api/runs/<id>`. */
export interface RunSummary extends RunLabels {
  id: string;
  state: RunState;
  seed: number;
  triggers: number;
  trialsPlanned: number;
  trialsShown: number;
  responses: number;
  eventsFile: string | null;
  rawLog: string;
  /** Events refused for this run (from another connection, or implausible from its display). */
  refusedEvents: number;
  /** A write of the raw log or the events files failed (a full disk): what failed. */
  storageError: string | null;
  /** Why the run ended, as logged (null while armed or running). */
  endReason: string | null;
}

/** What the display needs to present a run (sent on arm, and again after a reload). */
export interface RunAnnouncement extends RunLabels {
  runId: string;
  state: RunState;
  schedule: RunSchedule;
  /** Image URLs in set order (the schedule's imageIndex points here). */
  images: { id: string; url: string }[];
  config: SessionConfig;
  /** Triggers of this run so far (volume >= 0), for a display that rejoins a running run. */
  triggers: VolumeTrigger[];
  /** Trials whose onset the server has already logged (a rejoining display skips them). */
  trialsShown: number[];
}

export interface TriggerMessage {
  runId: string | null;
  seq: number;
  /** Volume from time zero; null when no run is armed. Dummy volumes are negative. */
  volume: number | null;
  serverMs: number;
}

export interface HelloReply {
  serverMs: number;
  /**
   * This display's secret: it sends it again at each hello (reload, reconnect). Only the display a
   * run is bound to (the one connected when it was armed) writes into that run.
   */
  secret: string;
  /** `display`: this page presents the runs; `second-display`: another display has that role, this one only watches. */
  role: 'display' | 'second-display';
  /** Key a trigger box types (the display relays it when the keyboard trigger source is used). */
  triggerKey: string | null;
  responseKeys: string[];
}

export interface ServerToDisplayEvents {
  'run:announce': (run: RunAnnouncement) => void;
  'run:ended': (message: { runId: string; state: RunState }) => void;
  trigger: (message: TriggerMessage) => void;
}

export interface DisplayToServerEvents {
  'display:hello': (hello: DisplayHello, ack: (reply: HelloReply) => void) => void;
  'clock:ping': (sentMs: number, ack: (serverMs: number) => void) => void;
  'display:ready': (ready: DisplayReady) => void;
  'display:failed': (failure: DisplayFailed) => void;
  /** Events with ids; the ack lists the ids the server has stored (duplicates included). */
  'display:events': (events: DisplayEvent[], ack: (storedIds: string[]) => void) => void;
}

/** The socket's handshake `auth` field. */
export interface SocketAuth {
  role: 'display';
  token?: string;
}
