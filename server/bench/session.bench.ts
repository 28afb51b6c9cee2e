/**
 * Benchmark: onset error and trigger relay latency of an emulated run. The real `orthostim serve`
 * (scanner emulator, TR 2 s, SOA 1 TR, 8 generated images) and its display in headless Chromium;
 * one run armed through the API. Reports |actual - planned onset| over the trials (frame time +
 * displayLatencyMs 0, on the scanner clock) and the relay latency (server arrival of a trigger to
 * its receipt by the display, on the server clock via the display's clock-offset estimate).
 *
 *   npm run bench -- session-run      (ORTHOSTIM_BENCH_SESSION_S=300 for a 5-minute run; default 60)
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  hasChromium,
  launchChromium,
  startServe,
  writeTestStimulusSet,
  type Benchmark,
  type BenchResult,
} from '@orthostim/test';

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function runSession(): Promise<BenchResult[]> {
  if (!hasChromium()) throw new Error('/usr/bin/chromium is missing (apt-get install chromium)');
  const targetS = Number(process.env.ORTHOSTIM_BENCH_SESSION_S ?? 60);
  const images = 8;
  // Trials of 2 s with 25% null: repetitions so the run lasts about targetS.
  const repetitions = Math.max(1, Math.round(((targetS / 2) * 0.75) / images));
  const root = mkdtempSync(join(tmpdir(), 'orthostim-bench-session-'));
  const set = await writeTestStimulusSet(join(root, 'set'), images, 256);
  writeFileSync(
    join(root, 'config.json'),
    JSON.stringify({ repetitions, soaVolumes: 1, imageDurationMs: 1000, leadInVolumes: 1, leadOutVolumes: 1 }),
  );
  const server = await startServe([
    '--stimuli',
    set,
    '--data',
    join(root, 'data'),
    '--config',
    join(root, 'config.json'),
    '--port',
    '0',
    '--emulate-scanner',
    '--tr',
    '2',
  ]);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
    await page.goto(server.displayUrl);
    const api = async (method: string, path: string, body?: unknown) =>
      (await (
        await fetch(`${server.url}${path}`, {
          method,
          headers: { 'content-type': 'application/json' },
          body: body ? JSON.stringify(body) : undefined,
        })
      ).json()) as Record<string, any>;
    for (let i = 0; i < 100 && !(await api('GET', '/api/status')).display.connected; i++)
      await new Promise((r) => setTimeout(r, 100));
    const run = await api('POST', '/api/runs', { participant: '01', run: 1 });
    let s = run;
    while (s.state === 'armed' || s.state === 'running') {
      await new Promise((r) => setTimeout(r, 500));
      s = await api('GET', `/api/runs/${run.id}`);
    }
    const log = readFileSync(s.rawLog, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const sidecar = JSON.parse(readFileSync(String(s.eventsFile).replace(/\.tsv$/, '.json'), 'utf8'));
    const t0 = log.find((r) => r.type === 'time_zero')!.t;
    const planned = new Map<number, number>(
      log[0].schedule.trials.map((t: { index: number; onsetS: number }) => [t.index, t.onsetS]),
    );
    const errors = log
      .filter((r) => r.type === 'display' && r.event.type === 'onset')
      .map((r) => Math.abs((r.event.serverMs - t0) / 1000 - planned.get(r.event.trialIndex)!) * 1000)
      .sort((a, b) => a - b);
    const arrival = new Map<number, number>(log.filter((r) => r.type === 'trigger').map((r) => [r.seq, r.t]));
    const relay = log
      .filter((r) => r.type === 'display' && r.event.type === 'trigger_received' && arrival.has(r.event.seq))
      .map((r) => r.event.serverMs - arrival.get(r.event.seq)!)
      .sort((a, b) => a - b);
    const frameMs = 1000 / sidecar.StimulusPresentation.ScreenRefreshRate;
    const note = `${errors.length} trials, run ${log[0].schedule.durationS} s, frame ${frameMs.toFixed(2)} ms, state ${s.state}`;
    return [
      { metric: 'onset |error| median', value: quantile(errors, 0.5), unit: 'ms', note },
      { metric: 'onset |error| p95', value: quantile(errors, 0.95), unit: 'ms' },
      { metric: 'onset |error| max', value: errors[errors.length - 1]!, unit: 'ms' },
      {
        metric: 'trials within 1 frame + 5 ms',
        value: errors.filter((e) => e < frameMs + 5).length / errors.length,
        unit: 'fraction',
      },
      { metric: 'trigger relay p50', value: quantile(relay, 0.5), unit: 'ms', note: `${relay.length} triggers` },
      { metric: 'trigger relay p99', value: quantile(relay, 0.99), unit: 'ms' },
    ];
  } finally {
    await browser.close();
    server.child.kill('SIGTERM');
    await server.exited;
  }
}

export const benchmarks: Benchmark[] = [
  {
    name: 'session-run',
    description: 'onset error and trigger relay latency of an emulated run in headless Chromium',
    run: runSession,
  },
];
