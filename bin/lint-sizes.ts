/**
 * `npm run lint` step: no function over 80 lines, no source file over 500 (tooling/src/size-limits.ts).
 * Known violations are listed in lint/size-allowlist.json (file, function, lines); the check fails on
 * any violation not listed there or longer than listed, and names the entries that can be removed
 * or tightened. `--write-allowlist` rewrites the list from the current tree.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  checkAllowList,
  findSizeViolations,
  isLimitedSource,
  SIZE_LIMITS,
  type SizeViolation,
} from '../tooling/src/size-limits';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const allowListPath = join(root, 'lint', 'size-allowlist.json');

function sourceFiles(): string[] {
  const listed = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return [...new Set(listed.split('\0'))].filter((path) => path !== '' && isLimitedSource(path)).sort();
}

function currentViolations(): SizeViolation[] {
  return sourceFiles().flatMap((file) => {
    let text: string;
    try {
      text = readFileSync(join(root, file), 'utf8');
    } catch {
      return []; // listed by git but deleted in the work tree
    }
    return findSizeViolations(text, file);
  });
}

function readAllowList(): SizeViolation[] {
  try {
    return JSON.parse(readFileSync(allowListPath, 'utf8')) as SizeViolation[];
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

function describe(v: SizeViolation): string {
  return `${v.file}: ${v.function} has ${v.lines} lines`;
}

function main(): number {
  const violations = currentViolations();
  if (process.argv.includes('--write-allowlist')) {
    writeFileSync(allowListPath, `${JSON.stringify(violations, null, 2)}\n`);
    console.log(`lint-sizes: wrote ${violations.length} entries to ${allowListPath}`);
    return 0;
  }
  const { failures, loose } = checkAllowList(violations, readAllowList());
  const limits = `functions <= ${SIZE_LIMITS.maxFunctionLines} lines, files <= ${SIZE_LIMITS.maxFileLines} lines`;
  for (const { entry, now } of loose) {
    const state = now === undefined ? 'is within the limits now' : `is down to ${now} lines`;
    console.log(`lint-sizes: note: ${entry.file}: ${entry.function} ${state}; shrink lint/size-allowlist.json`);
  }
  for (const { violation, allowed } of failures) {
    const why = allowed === undefined ? '' : ` (the allow-list has ${allowed})`;
    console.error(`lint-sizes: ${describe(violation)}${why}`);
  }
  if (failures.length > 0) {
    console.error(`lint-sizes: ${failures.length} new or grown violations of the size limits (${limits})`);
    return 1;
  }
  console.log(`lint-sizes: ok (${limits}; ${violations.length} known violations allowed)`);
  return 0;
}

process.exitCode = main();
