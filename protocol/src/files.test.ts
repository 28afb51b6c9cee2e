import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { buildOutputDir } from './files';

const tmp = mkdtempSync(join(tmpdir(), 'orthostim-files-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const FILES_TS = fileURLToPath(new URL('./files.ts', import.meta.url));

/**
 * A child process that builds `out` and, once its staging folder holds a file, prints the folder
 * and waits; `extra` runs first (e.g. a SIGINT handler of its own).
 */
function child(
  out: string,
  extra = '',
): {
  proc: ReturnType<typeof spawn>;
  staging: Promise<string>;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
} {
  const script = join(tmp, `child-${Math.random().toString(36).slice(2)}.mts`);
  writeFileSync(
    script,
    `import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildOutputDir } from ${JSON.stringify(FILES_TS)};
${extra}
await buildOutputDir(${JSON.stringify(out)}, async (staging) => {
  writeFileSync(join(staging, 'half.nii.gz'), 'partial');
  process.stdout.write(staging + '\\n');
  await new Promise((r) => setTimeout(r, 60_000));
});
`,
  );
  const proc = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const staging = new Promise<string>((resolve, reject) => {
    let buf = '';
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('\n')) resolve(buf.trim());
    });
    proc.on('exit', () => reject(new Error(`child exited before filling: ${stderr.slice(0, 600)}`)));
  });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { proc, staging, done };
}

describe('buildOutputDir leaves no staging folder behind', () => {
  it('removes the staging folder on Ctrl-C (SIGINT) and still dies of the signal', async () => {
    const out = join(tmp, 'a', 'sub-01');
    const c = child(out);
    const staging = await c.staging;
    expect(existsSync(join(staging, 'half.nii.gz'))).toBe(true);
    c.proc.kill('SIGINT');
    expect(await c.done).toEqual({ code: null, signal: 'SIGINT' });
    expect(existsSync(staging)).toBe(false);
    expect(existsSync(out)).toBe(false);
  }, 20_000);

  it('leaves the signal to a handler of the program, and removes the folder when that handler exits', async () => {
    const out = join(tmp, 'b', 'sub-01');
    const c = child(out, "process.on('SIGINT', () => { process.stderr.write('stopping\\\\n'); process.exit(3); });");
    const staging = await c.staging;
    c.proc.kill('SIGINT');
    expect(await c.done).toEqual({ code: 3, signal: null });
    expect(existsSync(staging)).toBe(false);
  }, 20_000);

  it('removes the folder of a killed process (SIGKILL) at the next build of the same folder, and keeps those of live processes', async () => {
    const out = join(tmp, 'c', 'sub-01');
    const killed = child(out);
    const dead = await killed.staging;
    killed.proc.kill('SIGKILL');
    await killed.done;
    expect(existsSync(dead)).toBe(true); // nothing can run on SIGKILL
    const live = child(out);
    const alive = await live.staging; // its build removed the dead one already
    expect(existsSync(dead)).toBe(false);
    mkdirSync(join(tmp, 'c', '.sub-02.partial-otherhost-1-abcd'), { recursive: true }); // another folder, another host
    await buildOutputDir(out, (staging) => writeFileSync(join(staging, 'map.nii.gz'), 'whole'));
    expect(readdirSync(out)).toEqual(['.orthostim-output', 'map.nii.gz']);
    expect(existsSync(alive)).toBe(true); // a live process's folder stays
    expect(existsSync(join(tmp, 'c', '.sub-02.partial-otherhost-1-abcd'))).toBe(true);
    live.proc.kill('SIGTERM');
    expect((await live.done).signal).toBe('SIGTERM');
    expect(existsSync(alive)).toBe(false);
  }, 30_000);
});
