#!/usr/bin/env node
// A stand-in for `bin/orthostim.js` in executor tests: it takes an orthostim-like command line and
// does something small and checkable, so the tests exercise the job script, the executors and the
// state files without loading the network or the analysis.
//
//   stand-in-task.mjs write --out <file> --value <text> [--hold <file>] [--exit <code>]
//                     [--expect-exists <file>]
//
// Writes `<text>` and its argv to <file> (creating its folder), and (with --hold) waits until
// <file>.release exists first, so a test can cancel it midway at a moment of its choosing. With
// --exit it exits with that code after writing; with --expect-exists it fails (exit 4) when that
// file is missing, which shows that a dependency ran first.
import { existsSync, mkdirSync, writeFileSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';

const argv = process.argv.slice(2);
const opt = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
if (argv[0] !== 'write') {
  process.stderr.write(`stand-in-task: unknown command ${JSON.stringify(argv[0])}\n`);
  process.exit(2);
}
const out = opt('--out');
const hold = opt('--hold');
const code = Number(opt('--exit') ?? 0);
if (!out) {
  process.stderr.write('stand-in-task: --out is required\n');
  process.exit(2);
}
process.stdout.write(`stand-in-task: pid ${process.pid}, cwd ${process.cwd()}\n`);
if (hold) {
  writeFileSync(`${hold}.started`, `${process.pid}\n`);
  while (!existsSync(`${hold}.release`)) await new Promise((r) => setTimeout(r, 100));
}
const expected = opt('--expect-exists');
if (expected && !existsSync(expected)) {
  process.stderr.write(`stand-in-task: ${expected} does not exist\n`);
  process.exit(4);
}
mkdirSync(dirname(out), { recursive: true });
const tmp = `${out}.${process.pid}.tmp`;
writeFileSync(tmp, JSON.stringify({ value: opt('--value') ?? null, argv, cwd: process.cwd() }));
renameSync(tmp, out);
process.stdout.write(`stand-in-task: wrote ${out}\n`);
process.exit(code);
