/** `orthostim serve` as a child process (the real program), for end-to-end and fault tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './shared-data';

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  displayUrl: string;
  output: () => string;
  /** Resolves when the process has exited. */
  exited: Promise<number | null>;
}

/** `env` adds to the environment (ORTHOSTIM_KILL_AT for the fault-injection tests). */
export function startServe(args: string[], env: Record<string, string> = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'orthostim.js'), 'serve', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ORTHOSTIM_PROGRESS: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /display:\s+(http:\/\/[^\s/]+)(\/display\S*)/.exec(out);
      if (m) resolve({ child, url: m[1]!, displayUrl: m[1]! + m[2]!, output: () => out, exited });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => reject(new Error(`orthostim serve exited (${code}) before listening:\n${out}`)));
  });
}
