#!/usr/bin/env node
// The orthostim command. Sources are TypeScript, run through tsx, so a fresh clone works after
// `npm install` with no build step.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
