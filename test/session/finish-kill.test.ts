/**
 * Fault injection with the real program: `orthostim serve` is killed (SIGKILL, as `kill -9`)
 * between each pair of steps of finishing a run (state logged, `end` logged, log closed,
 * events.tsv written, events.json written), then restarted on the same dataset. Whatever the
 * step, the restart leaves the run readable through the API with both events files, exactly one
 * `end` record, no temporary file, and a second restart changes nothing.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEventsTsv } from '@orthostim/protocol';
import { sessionApi, startServe, writeTestStimulusSet, type ServeProcess } from '@orthostim/test';
import { FINISH_STEPS } from '../../server/src/fault-points';

const root = mkdtempSync(join(tmpdir(), 'orthostim-kill-'));
const data = join(root, 'data');
let args: string[];
let running: ServeProcess | null = null;

beforeAll(async () => {
  const set = await writeTestStimulusSet(join(root, 'set'), 3);
  args = ['--stimuli', set, '--data', data, '--port', '0', '--trigger', 'keyboard', '--no-fsync'];
});
afterAll(async () => {
  running?.child.kill('SIGKILL');
  await running?.exited;
});

const call = (server: ServeProcess, method: string, path: string, body?: unknown) =>
  sessionApi(() => server.url).call(method, path, body);

async function serve(env: Record<string, string> = {}): Promise<ServeProcess> {
  running = await startServe(args, env);
  return running;
}

async function stop(server: ServeProcess): Promise<void> {
  server.child.kill('SIGTERM');
  await server.exited;
  running = null;
}

const filesUnder = (dir: string) => readdirSync(dir, { recursive: true, encoding: 'utf8' });

describe('killed between the steps of finishing a run', () => {
  it.each(FINISH_STEPS.map((step, i) => [step, i + 1] as const))(
    'at %s: a restart completes the run',
    async (step, run) => {
      const doomed = await serve({ ORTHOSTIM_KILL_AT: step });
      const armed = await call(doomed, 'POST', '/api/runs', { participant: '01', run });
      expect(armed.status).toBe(201);
      const id = armed.json.id as string;
      await expect(call(doomed, 'POST', `/api/runs/${id}/abort`)).rejects.toThrow(); // killed before it answered
      expect(await doomed.exited).toBeNull(); // killed by a signal
      running = null;

      const restarted = await serve();
      const summary = await call(restarted, 'GET', `/api/runs/${id}`);
      expect(summary.status).toBe(200);
      // Before `end` was logged, the run is found interrupted; after, it keeps the state it ended in.
      const expected = step === 'after-state' ? 'incomplete' : 'aborted';
      expect(summary.json.state).toBe(expected);
      expect(summary.json.eventsFile).toMatch(new RegExp(`run-${run}_events\\.tsv$`));
      const rows = parseEventsTsv(readFileSync(summary.json.eventsFile, 'utf8'), summary.json.eventsFile);
      expect(rows.filter((r) => r.trial_type === 'missed').length).toBe(summary.json.trialsPlanned);
      const sidecar = JSON.parse(readFileSync(summary.json.eventsFile.replace(/\.tsv$/, '.json'), 'utf8'));
      expect(sidecar.Orthostim).toMatchObject({ runStatus: expected, complete: false });
      const log = readFileSync(summary.json.rawLog, 'utf8');
      const records = log
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { type: string });
      expect(records.filter((r) => r.type === 'end')).toHaveLength(1);
      expect(filesUnder(data).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      await stop(restarted);

      // A second restart finds nothing to do for this run.
      const again = await serve();
      expect(again.output()).not.toContain(id);
      expect(readFileSync(summary.json.rawLog, 'utf8')).toBe(log);
      expect((await call(again, 'GET', `/api/runs/${id}`)).json.state).toBe(expected);
      await stop(again);
    },
  );
});
