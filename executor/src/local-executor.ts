/**
 * The `local` executor: the job script's tasks as child processes of this one, at most `nJobs` at
 * a time (default: the CPU count). Each child is `bash job.sh` with the task's index in
 * `$ORTHOSTIM_TASK_INDEX`, so a local run exercises exactly the script a cluster would run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { defaultPollIntervalMs, type Executor, type SubmitRequest } from './executor';
import type { SchedulerView } from './job-state';
import { taskLogPath } from './task-status';

interface Slot {
  attempt: string;
  index: number;
  request: SubmitRequest;
  child?: ChildProcess;
  ended?: { exitCode: number | null; signal: NodeJS.Signals | null };
}

export interface LocalExecutorOptions {
  nJobs?: number;
  env?: NodeJS.ProcessEnv;
  pollIntervalMs?: number;
  /** Shell that runs the job script (default bash). */
  shell?: string;
}

let sequence = 0;

export class LocalExecutor implements Executor {
  readonly name = 'local' as const;
  readonly detached = false;
  readonly pollIntervalMs: number;
  readonly nJobs: number;
  private readonly env: NodeJS.ProcessEnv;
  private readonly shell: string;
  private readonly slots = new Map<string, Slot>();
  private readonly queue: Slot[] = [];
  private running = 0;
  private stopped = false;

  constructor(options: LocalExecutorOptions = {}) {
    this.env = options.env ?? process.env;
    this.nJobs = options.nJobs ?? availableParallelism();
    this.shell = options.shell ?? 'bash';
    this.pollIntervalMs = options.pollIntervalMs ?? defaultPollIntervalMs('local', this.env);
  }

  async submit(request: SubmitRequest): Promise<string> {
    if (request.after && request.after.length > 0) {
      throw new Error(`local executor: cannot wait for scheduler tasks ${request.after.join(', ')}; run them first`);
    }
    const job = `local-${process.pid}-${++sequence}`;
    for (const index of request.indices) {
      const slot: Slot = { attempt: `${job}_${index}`, index, request };
      this.slots.set(slot.attempt, slot);
      this.queue.push(slot);
    }
    this.fill();
    return job;
  }

  private fill(): void {
    while (!this.stopped && this.running < this.nJobs && this.queue.length > 0) this.start(this.queue.shift()!);
  }

  private start(slot: Slot): void {
    const { request, index } = slot;
    const taskId = request.taskIds[index]!;
    mkdirSync(join(request.jobDir, 'logs'), { recursive: true });
    // The script appends to the same log once it knows its task; early errors land here too.
    const fd = openSync(taskLogPath(request.jobDir, taskId), 'a');
    this.running++;
    try {
      slot.child = spawn(this.shell, [request.scriptPath], {
        env: { ...this.env, ORTHOSTIM_TASK_INDEX: String(index), ORTHOSTIM_JOB_ID: slot.attempt },
        stdio: ['ignore', fd, fd],
      });
    } finally {
      closeSync(fd);
    }
    const done = (exitCode: number | null, signal: NodeJS.Signals | null) => {
      if (slot.ended) return;
      slot.ended = { exitCode, signal };
      this.running--;
      this.fill();
    };
    slot.child.on('exit', done);
    slot.child.on('error', () => done(127, null));
  }

  async observe(attempts: readonly string[]): Promise<Map<string, SchedulerView>> {
    const views = new Map<string, SchedulerView>();
    for (const a of attempts) {
      const slot = this.slots.get(a);
      if (!slot) views.set(a, { kind: 'orphaned' });
      else if (slot.ended) {
        const { exitCode, signal } = slot.ended;
        views.set(a, {
          kind: 'ended',
          state: exitCode === 0 ? 'COMPLETED' : signal ? 'CANCELLED' : 'FAILED',
          ...(exitCode !== null ? { exitCode } : {}),
          ...(signal ? { reason: signal } : {}),
        });
      } else if (slot.child) views.set(a, { kind: 'running' });
      else views.set(a, { kind: this.stopped ? 'orphaned' : 'waiting' });
    }
    return views;
  }

  /** Forward SIGTERM to running tasks (their scripts record it), drop queued ones, wait for exits. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.queue.length = 0;
    const live = [...this.slots.values()].filter((s) => s.child && !s.ended);
    await Promise.all(
      live.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.child!.once('exit', () => resolve());
            if (s.ended) resolve();
            s.child!.kill('SIGTERM');
          }),
      ),
    );
  }
}
