/**
 * @orthostim/server: the scanner session server. The session core (runs, triggers, raw logs,
 * BIDS events) works without HTTP; `startSessionServer` puts express + socket.io around it.
 */
export * from './clock';
export * from './triggers';
export * from './log-records';
export * from './run-log';
export * from './events-from-log';
export * from './bids-dataset';
export * from './session';
