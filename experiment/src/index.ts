/**
 * @orthostim/experiment: the participant display. jsPsych plugins for a scanner-locked image
 * trial and for waiting on triggers, an extension that stamps onsets on the server's clock, the
 * socket client with its resend buffer and clock sync. `src/app/main.ts` is the browser bundle's
 * entry (the server builds it with esbuild).
 */
export * from './frame-clock';
export * from './plugin-scanner-image';
export * from './plugin-wait-for-trigger';
export * from './extension-onset-stamp';
export * from './session-client';
