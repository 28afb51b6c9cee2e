/**
 * The real `orthostim serve` on a full disk (a 512 KiB tmpfs): before, ENOSPC in the raw log
 * killed the server with a stack trace. Now the server stays up, the operator sees the error, and
 * a restart after space is freed completes the run's files.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  canMountTmpfs,
  mountSmallDisk,
  sessionApi,
  startServe,
  writeTestStimulusSet,
  type ServeProcess,
  type SmallDisk,
} from '@orthostim/test';

const root = mkdtempSync(join(tmpdir(), 'orthostim-full-'));

const call = (server: ServeProcess, method: string, path: string, body?: unknown) =>
  sessionApi(() => server.url).call(method, path, body);

describe.skipIf(!canMountTmpfs())('orthostim serve on a full disk', () => {
  let disk: SmallDisk;
  let server: ServeProcess | null = null;
  beforeAll(() => {
    disk = mountSmallDisk(512 * 1024);
  });
  afterAll(async () => {
    server?.child.kill('SIGKILL');
    await server?.exited;
    disk?.unmount();
  });

  it('stays up, reports the error, and completes the run after a restart', async () => {
    const set = await writeTestStimulusSet(join(root, 'set'), 3, 16);
    const args = ['--stimuli', set, '--data', join(disk.dir, 'data'), '--port', '0', '--trigger', 'keyboard'];
    server = await startServe(args);
    const armed = await call(server, 'POST', '/api/runs', { participant: '01', run: 1 });
    expect(armed.status).toBe(201);
    disk.fill();
    const aborted = await call(server, 'POST', `/api/runs/${armed.json.id}/abort`);
    expect(aborted.status).toBe(200);
    expect(aborted.json).toMatchObject({ state: 'aborted', eventsFile: null });
    expect(aborted.json.storageError).toMatch(/ENOSPC/);
    const next = await call(server, 'POST', '/api/runs', { participant: '01', run: 2 });
    expect(next.status).toBe(507);
    expect(next.json.error).toMatch(/not armed: writing its raw log failed .*ENOSPC.*nothing was left behind/);
    const status = await call(server, 'GET', '/api/status');
    expect(status.status).toBe(200);
    expect(status.json.warnings.join('\n')).toMatch(/storage fault in run sub-01_task-orthostim_run-1/);
    expect(server.output()).not.toMatch(/internal error|\n\s+at /);
    server.child.kill('SIGTERM');
    await server.exited;
    disk.free();
    server = await startServe(args);
    expect(server.output()).toMatch(/run sub-01_task-orthostim_run-1 \(aborted\): missing events files written to/);
    const after = await call(server, 'GET', `/api/runs/${armed.json.id}`);
    expect(readFileSync(after.json.eventsFile, 'utf8')).toMatch(/^onset\t/);
    expect((await call(server, 'POST', '/api/runs', { participant: '01', run: 2 })).status).toBe(201);
  });
});
