/** @orthostim/test: cross-workspace and browser tests, and the helpers they share. */
export * from './shared-data';
export * from './run-cli';
export * from './stimulus-fixture';
export * from './browser';
export * from './serve-process';
export * from './bench';
export * from './small-disk';
export * from './session-api';
export * from './temp-dir';
export * from './bids-validator';
