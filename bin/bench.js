#!/usr/bin/env node
// `npm run bench [-- <filter>...]`: runs the benchmarks of every workspace's bench/*.bench.ts
// (see test/src/bench.ts). Sources are TypeScript, run through tsx like bin/orthostim.js.
import { register } from 'tsx/esm/api';

register();
await import('./bench-runner.ts');
