/**
 * @orthostim/tooling: how orthostim runs its TypeScript sources without a build step. Node bundles
 * (the CLI and worker threads, node-worker.ts) and browser bundles (the scanner display, the viewer), each cached
 * on disk and rebuilt when a source changes.
 */
export * from './browser-bundle';
export * from './node-bundle.mjs';
export * from './node-worker';
