import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './shared-data';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the real `orthostim` program (bin/orthostim.js) in a child process, as a user would. */
export function runCli(
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'orthostim.js'), ...args], {
      cwd: options.cwd ?? REPO_ROOT,
      env: { ...process.env, ORTHOSTIM_PROGRESS: '0', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code: code ?? -1, stdout, stderr });
    });
  });
}
