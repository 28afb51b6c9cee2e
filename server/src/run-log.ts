import {
  closeSync,
  fchmodSync,
  fdatasync,
  fdatasyncSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { InputError } from '@orthostim/protocol';
import { RUN_FILE_MODE } from '@orthostim/protocol/node';
import type { LogRecord } from './log-records';

/**
 * Append-only JSON-lines log of one run. Each record goes to the kernel with write(2) before
 * `append` returns, so a killed server keeps every record appended so far. Unless `fsync` is off,
 * an fdatasync follows in the background (coalesced: one in flight at a time), so records reach
 * the disk within milliseconds without blocking the event loop, whose timing the triggers need
 * (a synchronous fsync here delayed trigger timestamps by up to 15 ms). The file is created
 * exclusively (a run never appends to another run's log), with mode 0640.
 *
 * A write that fails (ENOSPC, EIO) never throws: the part of the record that reached the file is
 * cut off again, so the log stays whole records, the record waits in a backlog that each later
 * append retries first (the log keeps its order, with no gap), and `fault` says what failed.
 */
export class RunLogWriter {
  private fd: number | null;
  /** Bytes of whole records in the file. */
  private size: number;
  private backlog: Buffer[] = [];
  /** The last write error, while records are waiting in the backlog (null once they are written). */
  fault: string | null = null;
  private syncing = false;
  private dirty = false;
  private closing = false;

  constructor(
    readonly path: string,
    private readonly fsync = true,
    mode: 'create' | 'append' = 'create',
  ) {
    mkdirSync(dirname(path), { recursive: true });
    try {
      this.fd = openSync(path, mode === 'create' ? 'ax' : 'a', RUN_FILE_MODE);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST')
        throw new InputError(`${path}: a raw log for this run already exists; arm the next run index`);
      throw err;
    }
    if (mode === 'create') fchmodSync(this.fd, RUN_FILE_MODE);
    this.size = fstatSync(this.fd).size;
  }

  /** Records not yet in the file (a write failed). */
  get pending(): number {
    return this.backlog.length;
  }

  /** Log one record; false when it (or an earlier one) could not be written yet. */
  append(record: LogRecord): boolean {
    if (this.fd === null || this.closing) throw new Error(`${this.path}: log is closed`);
    this.backlog.push(Buffer.from(`${JSON.stringify(record)}\n`));
    const written = this.writeBacklog();
    if (written && this.fsync) this.sync();
    return written;
  }

  /** Write what waits in the backlog, in order; stop at the first failure. */
  private writeBacklog(): boolean {
    while (this.backlog.length) {
      const line = this.backlog[0]!;
      try {
        for (let off = 0; off < line.length; ) off += writeSync(this.fd!, line, off, line.length - off);
      } catch (err) {
        this.cutTornRecord();
        this.fault = `${this.path}: ${(err as Error).message}`;
        return false;
      }
      this.size += line.length;
      this.backlog.shift();
    }
    this.fault = null;
    return true;
  }

  /** After a failed write: drop the part of the record that reached the file. */
  private cutTornRecord(): void {
    try {
      ftruncateSync(this.fd!, this.size);
    } catch {
      // The next restart cuts it (a torn last record is kept in a side file then).
    }
  }

  private sync(): void {
    if (this.syncing) {
      this.dirty = true;
      return;
    }
    this.syncing = true;
    this.dirty = false;
    fdatasync(this.fd!, (err) => {
      this.syncing = false;
      if (err && !this.fault) this.fault = `${this.path}: fdatasync: ${err.message}`;
      if (this.closing) this.finishClose();
      else if (this.dirty) this.sync();
    });
  }

  /** Flush to disk and close (after a background sync in flight, if any). Records still in the backlog are lost. */
  close(): void {
    if (this.fd === null || this.closing) return;
    this.writeBacklog();
    this.closing = true;
    if (!this.syncing) this.finishClose();
  }

  private finishClose(): void {
    if (this.fd === null) return;
    try {
      if (this.fsync) fdatasyncSync(this.fd);
    } catch (err) {
      this.fault ??= `${this.path}: fdatasync: ${(err as Error).message}`;
    }
    closeSync(this.fd);
    this.fd = null;
  }
}

/** A run log as read back: its records, and the bytes after the last whole record (a torn write). */
export interface RunLogContents {
  records: LogRecord[];
  /** Length in bytes of the whole records at the start of the file. */
  wholeBytes: number;
  /** A torn last line (the process died or the disk filled mid-write), or null. */
  torn: Buffer | null;
}

/** Read a run log. A torn last line is returned apart; any other bad line is an error. No header: records is empty. */
export function readRunLogContents(path: string): RunLogContents {
  const bytes = readFileSync(path);
  const records: LogRecord[] = [];
  let start = 0;
  let line = 0;
  while (start < bytes.length) {
    line++;
    const nl = bytes.indexOf(0x0a, start);
    const end = nl < 0 ? bytes.length : nl;
    const text = bytes.subarray(start, end).toString('utf8');
    let parsed: LogRecord | null = null;
    try {
      parsed = text.trim() === '' ? null : (JSON.parse(text) as LogRecord);
    } catch {
      if (
        nl >= 0 &&
        bytes
          .subarray(nl + 1)
          .toString('utf8')
          .trim() !== ''
      )
        throw new InputError(`${path}: line ${line} is not valid JSON`);
      return { records, wholeBytes: start, torn: bytes.subarray(start) };
    }
    if (nl < 0) return { records, wholeBytes: start, torn: bytes.subarray(start) }; // no newline: torn
    if (parsed) records.push(parsed);
    start = nl + 1;
  }
  return { records, wholeBytes: start, torn: null };
}

/** Read a run log's records (a torn last line is dropped); it must start with a run header. */
export function readRunLog(path: string): LogRecord[] {
  const { records } = readRunLogContents(path);
  if (records[0]?.type !== 'run') throw new InputError(`${path}: does not start with a run header record`);
  return records;
}
