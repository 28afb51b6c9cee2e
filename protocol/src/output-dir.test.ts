/**
 * What `--overwrite` may replace (issue #14, "Why" item 4): only a folder orthostim wrote (it holds
 * OUTPUT_MARKER), never one holding the command's inputs, never the current folder; and a failed
 * final rename names the folder that holds the finished results.
 */
import * as fs from 'node:fs';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { InputError, OrthostimError } from './errors';
import { buildOutputDir, checkOutputDir, OUTPUT_MARKER } from './files';

/** Paths whose rename into place fails (as on a mount point or a read-only parent). */
const failRenameTo = new Set<string>();
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  return {
    ...real,
    renameSync: (from: fs.PathLike, to: fs.PathLike) => {
      if (failRenameTo.has(String(to)) && !String(from).endsWith('.old'))
        throw Object.assign(new Error(`EBUSY: resource busy or locked, rename '${from}' -> '${to}'`), {
          code: 'EBUSY',
        });
      return real.renameSync(from, to);
    },
  };
});

const tmp = mkdtempSync(join(tmpdir(), 'orthostim-outdir-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const fill = (name: string) => (staging: string) => writeFileSync(join(staging, name), 'new');

describe('--overwrite replaces only what orthostim wrote', () => {
  it('refuses a folder without the marker, naming what it would delete, and leaves it whole', async () => {
    const out = join(tmp, 'par');
    mkdirSync(join(out, 'photos'), { recursive: true });
    writeFileSync(join(out, 'photos', 'a.png'), 'png');
    writeFileSync(join(out, 'notes.txt'), 'mine');
    const err = await buildOutputDir(out, fill('x'), { overwrite: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    const msg = (err as Error).message;
    expect(msg).not.toContain('\n');
    expect(msg).toContain(`not a folder orthostim wrote (no ${OUTPUT_MARKER})`);
    expect(msg).toContain(join(out, 'notes.txt'));
    expect(msg).toContain(join(out, 'photos'));
    expect(readFileSync(join(out, 'notes.txt'), 'utf8')).toBe('mine');
    expect(readdirSync(tmp).filter((n) => n.includes('partial'))).toEqual([]);
  });

  it('refuses a folder orthostim wrote when it holds an input of the command (the betas, the stimulus set)', async () => {
    const out = join(tmp, 'd');
    await buildOutputDir(out, fill('r-map.nii.gz'));
    writeFileSync(join(out, 'betas.nii.gz'), 'betas'); // the user put inputs into it afterwards
    mkdirSync(join(out, 'set'));
    const inputs = [join(tmp, 'elsewhere.nii.gz'), join(out, 'betas.nii.gz'), join(out, 'set')];
    await expect(buildOutputDir(out, fill('x'), { overwrite: true, inputs })).rejects.toThrow(
      `${out}: holds ${join(out, 'betas.nii.gz')}, an input of this command; --overwrite would delete it`,
    );
    // An input given as the folder itself, or reached through a symbolic link, is found too.
    fs.symlinkSync(out, join(tmp, 'd-link'));
    await expect(
      buildOutputDir(out, fill('x'), { overwrite: true, inputs: [join(tmp, 'd-link', 'set')] }),
    ).rejects.toThrow(/an input of this command/);
    expect(readFileSync(join(out, 'betas.nii.gz'), 'utf8')).toBe('betas');
  });

  it('replaces a folder it wrote that holds no input, and marks the new one', async () => {
    const out = join(tmp, 'ok');
    await buildOutputDir(out, fill('old.txt'));
    expect(readdirSync(out).sort()).toEqual([OUTPUT_MARKER, 'old.txt']);
    await buildOutputDir(out, fill('new.txt'), { overwrite: true, inputs: [join(tmp, 'par', 'photos')] });
    expect(readdirSync(out).sort()).toEqual([OUTPUT_MARKER, 'new.txt']);
  });

  it('refuses the current folder (or one holding it) before any work: `--out .`', async () => {
    const fillSpy = vi.fn();
    await expect(buildOutputDir('.', fillSpy, { overwrite: true })).rejects.toThrow(
      /is the current folder or holds it/,
    );
    expect(() => checkOutputDir(join(process.cwd(), '..'))).toThrow(/is the current folder or holds it/);
    expect(fillSpy).not.toHaveBeenCalled();
  });
});

describe('a failed final rename', () => {
  it('names the folder holding the finished results, keeps it, and restores the old output', async () => {
    const out = join(tmp, 'mounted');
    await buildOutputDir(out, fill('old.txt'));
    failRenameTo.add(out);
    const err = await buildOutputDir(out, fill('done.txt'), { overwrite: true }).catch((e: unknown) => e);
    failRenameTo.clear();
    expect(err).toBeInstanceOf(OrthostimError);
    const msg = (err as Error).message;
    expect(msg).not.toMatch(/internal error/);
    const where = /they are in (\S+)$/.exec(msg)?.[1];
    expect(msg).toContain(`${out}: could not move the finished results into place (EBUSY)`);
    expect(where).toBeDefined();
    expect(readFileSync(join(where!, 'done.txt'), 'utf8')).toBe('new');
    expect(readdirSync(out).sort()).toEqual([OUTPUT_MARKER, 'old.txt']); // the old output is back
    expect(existsSync(`${where}.old`)).toBe(false);
  });
});
