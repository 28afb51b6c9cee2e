/**
 * Whole-file reads of NIfTI images for pipelines that read many: gunzip on libuv's pool, one file
 * read ahead of its use, and reused buffers (fresh pages cost more to fault in than the copy).
 */
import { readFileSync, existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { gunzip as gunzipCb, gunzipSync } from 'node:zlib';
import { promisify } from 'node:util';
import { InputError } from '@orthostim/protocol';

const GZIP_MAGIC = [0x1f, 0x8b];

export function isGzip(b: Uint8Array): boolean {
  return b.length >= 2 && b[0] === GZIP_MAGIC[0] && b[1] === GZIP_MAGIC[1];
}

export function readMaybeGzipSync(path: string): Uint8Array {
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch (err) {
    throw new InputError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (!isGzip(raw)) return raw;
  try {
    // Node's zlib (native) rather than nifti-reader-js's fflate `decompress`: same bytes, faster.
    return gunzipSync(raw);
  } catch (err) {
    throw new InputError(`${path}: gzip data is corrupt (${(err as Error).message})`);
  }
}
const gunzipAsync = promisify(gunzipCb);

/** Memory for whole-file reads, handed back once a file's values are copied out: fresh pages cost more to fault in than the copy itself. */
export class ReadBufferPool {
  private readonly free: Buffer[] = [];

  /** A free buffer of at least `size` bytes (taken out of the pool), else a new one. */
  get(size: number): Buffer {
    const i = this.free.findIndex((b) => b.length >= size);
    return i >= 0 ? this.free.splice(i, 1)[0]! : Buffer.allocUnsafe(size);
  }

  give(buffer: Buffer): void {
    this.free.push(buffer);
  }

  clear(): void {
    this.free.length = 0;
  }
}

/**
 * A whole file in one read request on libuv's pool (fs.promises.readFile reads 512 KiB at a time,
 * each step waiting for the main thread, which stalls while the main thread is busy).
 */
async function readWholeFile(path: string, pool?: ReadBufferPool): Promise<{ bytes: Buffer; backing: Buffer }> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const backing = pool ? pool.get(size) : Buffer.allocUnsafe(size);
    let done = 0;
    while (done < size) {
      const { bytesRead } = await fh.read(backing, done, size - done, done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return { bytes: backing.subarray(0, done), backing };
  } finally {
    await fh.close();
  }
}

async function readMaybeGzipAsync(
  path: string,
  pool?: ReadBufferPool,
): Promise<{ bytes: Uint8Array; backing?: Buffer }> {
  let raw: { bytes: Buffer; backing: Buffer };
  try {
    raw = await readWholeFile(path, pool);
  } catch (err) {
    throw new InputError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (!isGzip(raw.bytes)) return raw;
  try {
    return { bytes: await gunzipAsync(raw.bytes) };
  } catch (err) {
    throw new InputError(`${path}: gzip data is corrupt (${(err as Error).message})`);
  } finally {
    pool?.give(raw.backing); // the compressed bytes are no longer needed
  }
}

/**
 * The bytes of an image's file(s), read (and gunzipped) on libuv's thread pool. Given to a reader
 * as `preloaded`, they let the next file load while this one is parsed.
 */
export interface PreloadedNifti {
  path: string;
  files: ReadonlyMap<string, Uint8Array>;
  /** Pool memory the bytes live in, to give back once they are no longer needed. */
  backings: Buffer[];
}

/** Read an image's file(s) ahead, into `pool` memory where given. */
export async function preloadNifti(path: string, pool?: ReadBufferPool): Promise<PreloadedNifti> {
  const pair = pairPaths(path);
  const read = await Promise.all(
    (pair ? [pair.hdr, pair.img] : [path]).map(async (p) => [p, await readMaybeGzipAsync(p, pool)] as const),
  );
  return {
    path,
    files: new Map(read.map(([p, r]) => [p, r.bytes])),
    backings: read.flatMap(([, r]) => (r.backing ? [r.backing] : [])),
  };
}

/**
 * Reads a known sequence of images one ahead: `take(path)` returns that image's bytes and starts
 * reading the next, so file reading and decompression overlap the parsing of the previous image.
 * `release` hands the bytes of a parsed image back for later reads to reuse.
 */
export class NiftiReadAhead {
  private readonly pending = new Map<string, Promise<PreloadedNifti>>();
  private readonly pool = new ReadBufferPool();

  constructor(
    private readonly paths: readonly string[],
    private readonly depth = 1,
  ) {}

  /** Start reading the first images now (e.g. before the mask is read). */
  start(): this {
    for (const path of this.paths.slice(0, this.depth)) this.preload(path);
    return this;
  }

  private preload(path: string): void {
    if (this.pending.has(path)) return;
    const p = preloadNifti(path, this.pool);
    p.catch(() => undefined); // reported when taken; not an unhandled rejection if never taken
    this.pending.set(path, p);
  }

  take(path: string): Promise<PreloadedNifti> {
    const bytes = this.pending.get(path) ?? preloadNifti(path, this.pool);
    this.pending.delete(path);
    const i = this.paths.indexOf(path);
    for (let k = i + 1; i >= 0 && k <= i + this.depth && k < this.paths.length; k++) this.preload(this.paths[k]!);
    return bytes;
  }

  /** The image's bytes are no longer used (its values were copied out): reuse their memory. */
  release(image: PreloadedNifti): void {
    for (const b of image.backings) this.pool.give(b);
  }

  /** Done reading: drop the reusable memory. */
  close(): void {
    this.pool.clear();
  }
}

/** The image file of a .hdr/.img pair, and the header file of an .img. */
export function pairPaths(path: string): { hdr: string; img: string } | null {
  const m = /^(.*)\.(hdr|img)(\.gz)?$/i.exec(path);
  if (!m) return null;
  const stem = m[1]!;
  const find = (ext: string) => [`${stem}.${ext}`, `${stem}.${ext}.gz`].find((p) => existsSync(p));
  const hdr = m[2]!.toLowerCase() === 'hdr' ? path : find('hdr');
  const img = m[2]!.toLowerCase() === 'img' ? path : find('img');
  if (!hdr) throw new InputError(`${path}: the header file ${stem}.hdr[.gz] of this .img is missing`);
  if (!img) throw new InputError(`${path}: the image file ${stem}.img[.gz] of this .hdr is missing`);
  return { hdr, img };
}
