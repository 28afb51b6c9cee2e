/**
 * @orthostim/tooling: how orthostim runs its TypeScript sources without a build step. One bundle
 * cache (node-bundle.mjs: esbuild builds keyed by the size and mtime of every input) serves the
 * command (bin/orthostim.js), worker threads (node-worker.ts) and browser bundles (the scanner
 * display, the viewer; browser-bundle.ts). The size-limit checker of `npm run lint` is here too.
 */
export * from './browser-bundle';
export * from './node-bundle.mjs';
export * from './node-worker';
