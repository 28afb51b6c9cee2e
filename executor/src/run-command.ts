/**
 * Run an outside program (sbatch, squeue, ...) and collect its output. The one place the executor
 * spawns scheduler commands, so tests and errors see one shape.
 */
import { execFile } from 'node:child_process';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export type CommandRunner = (
  command: string,
  args: readonly string[],
  env?: NodeJS.ProcessEnv,
) => Promise<CommandResult>;

/** Resolves with the exit code (never rejects on a non-zero exit); rejects with ENOENT and the like. */
export const runCommand: CommandRunner = (command, args, env) =>
  new Promise((resolve, reject) => {
    execFile(
      command,
      [...args],
      { env: env ?? process.env, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 },
      (err, stdout, stderr) => {
        if (err && typeof (err as NodeJS.ErrnoException).code === 'string') {
          reject(err);
          return;
        }
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        resolve({ code: typeof code === 'number' ? code : 1, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
