import { closeSync, fdatasyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { InputError } from '@orthostim/protocol';
import type { LogRecord } from './log-records';

/**
 * Append-only JSON-lines log of one run. Each record is written with one write(2) and, unless
 * `fsync` is off, fdatasync'ed before `append` returns, so a killed server (or a power cut, with
 * fsync) keeps every record appended so far. The file is created exclusively: a run never
 * appends to another run's log.
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
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new InputError(`${path}: a raw log for this run already exists; arm the next run index`);
      throw err;
    }
  }
  append(record: LogRecord): void {
    if (this.fd === null) throw new Error(`${this.path}: log is closed`);
    writeSync(this.fd, `${JSON.stringify(record)}\n`);
    if (this.fsync) fdatasyncSync(this.fd);
  }
  close(): void {
    if (this.fd !== null) closeSync(this.fd);
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
