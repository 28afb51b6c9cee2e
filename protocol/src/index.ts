/**
 * @orthostim/protocol: what the programs exchange. Error classes, label checks, and the schemas of
 * the shared file formats (stimulus-set.json). Browser-safe: Node-only helpers (files, hashing)
 * live in `@orthostim/protocol/node`.
 */
export * from './errors';
export * from './labels';
export * from './stimulus-set';
export * from './session-config';
export * from './schedule';
export * from './schedule-sequence';
export * from './schedule-events';
export * from './events-tsv';
export * from './clock-offset';
export * from './scanner-time';
export * from './session-messages';
