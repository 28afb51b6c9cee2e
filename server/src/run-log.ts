import { closeSync, fdatasync, fdatasyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { InputError } from '@orthostim/protocol';
import type { LogRecord } from './log-records';

/**
 * Append-only JSON-lines log of one run. Each record goes to the kernel with one write(2) before
 * `append` returns, so a killed server keeps every record appended so far. Unless `fsync` is off,
 * an fdatasync follows in the background (coalesced: one in flight at a time), so records reach
 * the disk within milliseconds without blocking the event loop, whose timing the triggers need
 * (a synchronous fsync here delayed trigger timestamps by up to 15 ms). The file is created
 * exclusively: a run never appends to another run's log.
 */
export class RunLogWriter {
  private fd: number | null;
  constructor(
    readonly path: string,
    private readonly fsync = true,
    mode: 'create' | 'append' = 'create',
  ) {
    mkdirSync(dirname(path), { recursive: true });
    try {
      this.fd = openSync(path, mode === 'create' ? 'ax' : 'a');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST')
        throw new InputError(`${path}: a raw log for this run already exists; arm the next run index`);
      throw err;
    }
  }
  private syncing = false;
  private dirty = false;
  private closing = false;

  append(record: LogRecord): void {
    if (this.fd === null || this.closing) throw new Error(`${this.path}: log is closed`);
    writeSync(this.fd, `${JSON.stringify(record)}\n`);
    if (this.fsync) this.sync();
  }

  private sync(): void {
    if (this.syncing) {
      this.dirty = true;
      return;
    }
    this.syncing = true;
    this.dirty = false;
    fdatasync(this.fd!, () => {
      this.syncing = false;
      if (this.closing) this.finishClose();
      else if (this.dirty) this.sync();
    });
  }

  /** Flush to disk and close (after a background sync in flight, if any). */
  close(): void {
    if (this.fd === null || this.closing) return;
    this.closing = true;
    if (!this.syncing) this.finishClose();
  }

  private finishClose(): void {
    if (this.fd === null) return;
    if (this.fsync) fdatasyncSync(this.fd);
    closeSync(this.fd);
    this.fd = null;
  }
}

/** Read a run log. A torn last line (the process died mid-write) is dropped; any other bad line is an error. */
export function readRunLog(path: string): LogRecord[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  const records: LogRecord[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      records.push(JSON.parse(line) as LogRecord);
    } catch {
      if (i < lines.length - 2) throw new InputError(`${path}: line ${i + 1} is not valid JSON`);
    }
  });
  if (records[0]?.type !== 'run') throw new InputError(`${path}: does not start with a run header record`);
  return records;
}
