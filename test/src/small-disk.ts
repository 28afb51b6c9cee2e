/**
 * A small real file system for storage-fault tests: a tmpfs of a few hundred KiB mounted on a
 * temporary folder (needs root, as CI runs; `mount -t tmpfs` works in its containers), so writes
 * fail with a real ENOSPC from the kernel, torn partial writes included. `fill` takes the space
 * that is left with a filler file, `free` gives it back.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SmallDisk {
  dir: string;
  /** Fill the remaining space (a filler file written until ENOSPC). */
  fill(): void;
  /** Remove the filler. */
  free(): void;
  unmount(): void;
}

/** Whether this process may mount a tmpfs (root, and mount(2) allowed). In CI a failure is an error, not a skip. */
export function canMountTmpfs(): boolean {
  let disk: SmallDisk | null = null;
  try {
    disk = mountSmallDisk(64 * 1024);
    return true;
  } catch (err) {
    if (process.env.CI) throw new Error(`cannot mount a tmpfs for the storage-fault tests: ${(err as Error).message}`);
    return false;
  } finally {
    disk?.unmount();
  }
}

export function mountSmallDisk(bytes: number): SmallDisk {
  const dir = mkdtempSync(join(tmpdir(), 'orthostim-small-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0755`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const filler = join(dir, 'filler');
  return {
    dir,
    fill() {
      const fd = openSync(filler, 'a');
      const block = Buffer.alloc(4096, 0x41);
      try {
        for (;;) writeSync(fd, block);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
        // Take the last bytes too, so even a short record cannot be written.
        for (let n = 2048; n >= 1; n >>= 1) {
          try {
            writeSync(fd, block, 0, n);
          } catch {
            // Full at this size: try smaller.
          }
        }
      } finally {
        closeSync(fd);
      }
    },
    free() {
      rmSync(filler, { force: true });
    },
    unmount() {
      execFileSync('umount', [dir], { stdio: 'pipe' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
