/**
 * Storage faults on a real small file system (a tmpfs of 512 KiB): a full disk while a run is
 * logged, armed or closed, and the logs a crash leaves (torn last record, no header, no events).
 * Each case lost records or blocked a run number before (issue #14, item 3).
 */
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readStimulusSet, runPaths, type LoadedStimulusSet } from '@orthostim/protocol/node';
import { canMountTmpfs, mountSmallDisk, writeTestStimulusSet, type SmallDisk } from '@orthostim/test';
import { FakeClock } from './clock';
import { readRunLog, readRunLogContents } from './run-log';
import { StorageError } from './session';
import { makeTestSession, onsetEvent, playRun, testHello } from './test-session';

let stimuli: LoadedStimulusSet;
const root = mkdtempSync(join(tmpdir(), 'orthostim-storage-'));
beforeAll(async () => {
  stimuli = readStimulusSet(await writeTestStimulusSet(join(root, 'set'), 3, 16));
});

/** Every file under `dir` (recursively), relative. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => statSync(join(dir, f)).isFile());
}

describe.skipIf(!canMountTmpfs())('a full disk (tmpfs)', () => {
  let disk: SmallDisk;
  beforeAll(() => {
    disk = mountSmallDisk(512 * 1024);
  });
  afterAll(() => disk?.unmount());
  afterEach(() => disk?.free());

  it('keeps the server up and the log whole; records wait in memory and are written once there is space', async () => {
    const warnings: string[] = [];
    const t = makeTestSession(join(disk.dir, 'ds1'), stimuli, { warnings });
    await t.session.start();
    t.session.displayHello('d', testHello);
    const armed = t.session.arm({ participant: '01', run: 1, seed: 3 });
    t.clock.advance(1000);
    t.source.push(t.clock.now());
    disk.fill();
    // The display keeps reporting (clock-sync samples, 60 of them, some 9 KB): the file needs a page the disk does not have.
    const samples = Array.from({ length: 60 }, (_, i) => ({
      id: `s${i}`,
      runId: armed.id,
      type: 'clock_sync',
      sentMs: i,
      receivedMs: i + 1,
      serverAnswerMs: i,
      offsetMs: 0.5,
      minRttMs: 1,
    }));
    expect(t.session.displayEvents('d', samples).stored).toHaveLength(60);
    const status = t.session.status();
    expect(status.run).toMatchObject({ state: 'armed', triggers: 1 });
    expect(status.run!.storageError).toMatch(/ENOSPC/);
    expect(status.warnings.join('\n')).toMatch(/storage fault in run .*ENOSPC.*record\(s\) wait in memory/);
    expect(warnings.some((w) => /writing the raw log failed: .*ENOSPC/.test(w))).toBe(true);
    // The log holds whole records only (the torn part of the failed write was cut off again).
    const onDisk = readRunLogContents(armed.rawLog);
    expect(onDisk.torn).toBeNull();
    expect(onDisk.records.filter((r) => r.type === 'display').length).toBeLessThan(60);
    // Space again: the next record writes the backlog first, in order, then says what happened.
    disk.free();
    t.clock.advance(1000);
    t.source.push(t.clock.now());
    const log = readRunLog(armed.rawLog);
    expect(log.flatMap((r) => (r.type === 'display' ? [r.event.id] : []))).toEqual(samples.map((x) => x.id));
    expect(log.filter((r) => r.type === 'trigger')).toHaveLength(2);
    expect(log.filter((r) => r.type === 'storage_fault')).toHaveLength(1);
    expect(t.session.status().warnings.join('\n')).not.toMatch(/wait in memory/);
    const aborted = t.session.abort(armed.id);
    const sidecar = JSON.parse(readFileSync(aborted.eventsFile!.replace(/\.tsv$/, '.json'), 'utf8'));
    expect(sidecar.Orthostim.storageFaults[0]).toMatch(/ENOSPC/);
    expect(sidecar.Orthostim.complete).toBe(false);
    await t.session.stop();
  });

  it('refuses to arm on a full disk without leaving a file that blocks the run number', async () => {
    const dataDir = join(disk.dir, 'ds2');
    const t = makeTestSession(dataDir, stimuli);
    await t.session.start();
    mkdirSync(
      dirname(join(dataDir, runPaths({ participant: '01', session: null, task: 'orthostim', run: 1 }).rawLog)),
      {
        recursive: true,
      },
    );
    disk.fill();
    expect(() => t.session.arm({ participant: '01', run: 1 })).toThrow(StorageError);
    expect(() => t.session.arm({ participant: '01', run: 1 })).toThrow(
      /not armed: writing its raw log failed .*ENOSPC/,
    );
    expect(filesUnder(join(dataDir, 'sourcedata'))).toEqual([]);
    disk.free();
    expect(t.session.arm({ participant: '01', run: 1 }).state).toBe('armed');
    await t.session.stop();
  });

  it('an abort on a full disk logs the end; the events files come at the next start, with no temp file left', async () => {
    const dataDir = join(disk.dir, 'ds3');
    const t = makeTestSession(dataDir, stimuli);
    await t.session.start();
    t.session.displayHello('d', testHello);
    const armed = t.session.arm({ participant: '01', run: 1, seed: 3 });
    disk.fill();
    const aborted = t.session.abort(armed.id);
    expect(aborted).toMatchObject({ state: 'aborted', eventsFile: null });
    expect(aborted.storageError).toMatch(/events files not written .*ENOSPC.*next start/);
    expect(filesUnder(dataDir).filter((f) => f.endsWith('.tmp') || f.includes('_events.'))).toEqual([]);
    disk.free();
    const restarted = makeTestSession(dataDir, stimuli, { clock: new FakeClock(5) });
    await restarted.session.start();
    expect(restarted.session.recovered).toEqual([
      {
        id: armed.id,
        eventsFile: expect.stringMatching(/run-1_events\.tsv$/),
        error: null,
        state: 'aborted',
        notes: [],
      },
    ]);
    const summary = restarted.session.summary(armed.id)!;
    expect(summary.eventsFile).not.toBeNull();
    expect(existsSync(summary.eventsFile!.replace(/\.tsv$/, '.json'))).toBe(true);
    // The run keeps its number: arming it again is refused naming the events file that now exists.
    expect(() => restarted.session.arm({ participant: '01', run: 1 })).toThrow(/already exists/);
    await restarted.session.stop();
  });
});

describe('logs a crash leaves', () => {
  it('cuts a torn last record into a side file before appending; restarts do not pile up end records', async () => {
    const dataDir = join(root, 'torn');
    const first = makeTestSession(dataDir, stimuli);
    await first.session.start();
    first.session.displayHello('d', testHello);
    const armed = first.session.arm({ participant: '01', run: 1, seed: 3 });
    for (let k = 0; k < 5; k++) {
      first.clock.advance(1000);
      first.source.push(first.clock.now());
    }
    const fragment = '{"type":"display","t":6001,"wallMs":1,"event":{"id":"x","runId":"sub-01_t';
    appendFileSync(armed.rawLog, fragment); // the process died mid-write
    for (let restart = 0; restart < 3; restart++) {
      const t = makeTestSession(dataDir, stimuli, { clock: new FakeClock(10) });
      await t.session.start();
      expect(t.session.summary(armed.id)).toMatchObject({ state: 'incomplete' });
      if (restart === 0)
        expect(t.session.recovered[0]!.notes[0]).toMatch(
          /torn last record \(\d+ bytes\) cut off and kept in .*\.torn-\d+/,
        );
      else expect(t.session.recovered).toEqual([]);
      await t.session.stop();
    }
    const log = readRunLog(armed.rawLog);
    expect(log.filter((r) => r.type === 'end')).toHaveLength(1);
    expect(log.at(-1)).toMatchObject({ type: 'end', state: 'incomplete' });
    const side = readdirSync(dirname(armed.rawLog)).filter((f) => f.includes('.torn-'));
    expect(side).toHaveLength(1);
    expect(readFileSync(join(dirname(armed.rawLog), side[0]!), 'utf8')).toBe(fragment);
  });

  it('moves an empty or header-less log aside, so the run number can be armed', async () => {
    const dataDir = join(root, 'headerless');
    const labels = (run: number) => ({ participant: '01', session: null, task: 'orthostim', run });
    for (const [run, content] of [
      [1, ''],
      [2, '{"type":"trigger","t":1,"wallMs":1,"seq":1,"volume":0}\n'],
    ] as const) {
      const p = join(dataDir, runPaths(labels(run)).rawLog);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, content);
    }
    const t = makeTestSession(dataDir, stimuli);
    await t.session.start();
    expect(t.session.recovered.map((r) => r.notes[0])).toEqual([
      expect.stringMatching(/run-1_log\.jsonl: no run header \(0 records\); moved to .*\.no-header-\d+/),
      expect.stringMatching(/run-2_log\.jsonl: no run header \(1 records\); moved to/),
    ]);
    expect(t.session.arm({ participant: '01', run: 1 }).state).toBe('armed');
    t.session.abort('sub-01_task-orthostim_run-1');
    expect(t.session.arm({ participant: '01', run: 2 }).state).toBe('armed');
    await t.session.stop();
  });

  it('writes raw logs and events files with mode 0640', async () => {
    const t = makeTestSession(join(root, 'modes'), stimuli);
    await t.session.start();
    t.session.displayHello('d', testHello);
    const armed = t.session.arm({ participant: '01', run: 1, seed: 3 });
    t.session.displayEvents('d', [onsetEvent('o', armed.id, 0, t.clock.now())]);
    playRun(t, 'd');
    const done = t.session.summary(armed.id)!;
    for (const f of [done.rawLog, done.eventsFile!, done.eventsFile!.replace(/\.tsv$/, '.json')])
      expect((statSync(f).mode & 0o777).toString(8), f).toBe('640');
  });
});
