/**
 * `npm run demo`: the pipeline in one command, on two stimulus sets (a synthesized one and a natural
 * one): simulate a study for each (planted layer regions), analyze it (participant and group level,
 * standard and residual methods, with reports), and print and write the recovery table: per layer,
 * the Dice overlap of its thresholded group map with its true region, the fraction of the map
 * inside the region, and the mean overlap between layers' maps, for
 *   (a) synthesized images, standard RSA; (b) natural images, standard RSA; (c) natural images,
 *   residual method.
 * Every step prints what it does and how long it took.
 *
 *   npm run demo -- [--synthesized <set>] [--natural <set or photo folder>] [--out demo-output]
 *                   [--participants 8] [--runs 8] [--snr 0.5[,1,2]] [--weights <dir>] [--overwrite]
 *
 * Defaults: the committed default set (stimuli/sets/default) and the 16 natural photos in
 * ../shared/data/photos/natural16 (a folder of photos is turned into a set with `orthostim rdms`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatRecoveryMarkdown, readRecovery, type RecoveryTable } from '@orthostim/analysis';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    synthesized: { type: 'string', default: join(ROOT, 'stimuli', 'sets', 'default') },
    natural: { type: 'string', default: resolve(ROOT, '..', 'shared', 'data', 'photos', 'natural16') },
    out: { type: 'string', default: join(ROOT, 'demo-output') },
    participants: { type: 'string', default: '8' },
    runs: { type: 'string', default: '8' },
    snr: { type: 'string', default: '0.5' },
    weights: { type: 'string' },
    overwrite: { type: 'boolean', default: false },
    'n-permutations': { type: 'string', default: '1000' },
  },
});

const out = resolve(values.out!);
const fail = (message: string): never => {
  process.stderr.write(`demo: error: ${message}\n`);
  process.exit(2);
};
if (existsSync(out) && !values.overwrite) fail(`${out} exists; choose another --out or pass --overwrite`);
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

/** Run one orthostim command, its output streaming through, and report how long it took. */
function step(what: string, args: string[]): number {
  process.stdout.write(`\n== ${what}\n   orthostim ${args.join(' ')}\n`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'orthostim.js'), ...args], {
    stdio: 'inherit',
    env: { ...process.env, ORTHOSTIM_PROGRESS: '0' },
  });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) fail(`step "${what}" failed (exit ${r.status})`);
  process.stdout.write(`== ${what}: done in ${seconds.toFixed(1)} s\n`);
  return seconds;
}

/** A stimulus set: a folder or file with stimulus-set.json as it is; a folder of photos through `orthostim rdms`. */
function stimulusSet(label: string, path: string): string {
  const p = resolve(path);
  if (existsSync(join(p, 'stimulus-set.json')) || p.endsWith('.json')) return p;
  if (!existsSync(p))
    fail(
      `${label} stimulus set ${p} does not exist (make the default one with \`orthostim synthesize\`, or name a set with --${label})`,
    );
  const setDir = join(out, `${label}-set`);
  const weights = values.weights ?? resolve(ROOT, '..', 'shared', 'models', 'bvlc-googlenet', 'weights');
  step(`${label}: layer RDMs of the photos in ${p}`, [
    'rdms',
    p,
    '--out',
    setDir,
    ...(existsSync(weights) ? ['--weights', weights] : []),
  ]);
  return setDir;
}

const sets = {
  synthesized: stimulusSet('synthesized', values.synthesized!),
  natural: stimulusSet('natural', values.natural!),
};
const snrs = values
  .snr!.split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const timings: Record<string, number> = {};
const results: { snr: string; condition: string; table: RecoveryTable }[] = [];

for (const snr of snrs) {
  for (const [label, set] of Object.entries(sets)) {
    const dir = join(out, `snr-${snr}`, label);
    const bids = join(dir, 'bids');
    const analysis = join(dir, 'analysis');
    timings[`${label} simulate (SNR ${snr})`] = step(
      `${label}: simulate ${values.participants} participants x ${values.runs} runs at SNR ${snr}`,
      [
        'simulate',
        '--stimuli',
        set,
        '--out',
        bids,
        '--participants',
        values.participants!,
        '--runs',
        values.runs!,
        '--snr',
        snr,
      ],
    );
    timings[`${label} analyze participant (SNR ${snr})`] = step(
      `${label}: analyze, participant level (standard and residual)`,
      ['analyze', bids, analysis, 'participant', '--stimuli', set, '--method', 'both'],
    );
    timings[`${label} analyze group (SNR ${snr})`] = step(`${label}: analyze, group level and report`, [
      'analyze',
      bids,
      analysis,
      'group',
      '--stimuli',
      set,
      '--method',
      'both',
      '--n-permutations',
      values['n-permutations']!,
    ]);
    const methods = label === 'synthesized' ? (['standard'] as const) : (['standard', 'semipartial'] as const);
    for (const method of methods) {
      const condition = `${label === 'synthesized' ? '(a) synthesized' : method === 'standard' ? '(b) natural' : '(c) natural'}, ${method === 'standard' ? 'standard RSA' : 'residual method'}`;
      // Fewer than 6 participants cannot reach FWE p < 0.05 with sign flips: score top-k maps instead.
      results.push({
        snr,
        condition,
        table: readRecovery({
          analysisDir: analysis,
          bidsDir: bids,
          method,
          selection: Number(values.participants) >= 6 ? 'fwe' : 'top-k',
        }),
      });
    }
  }
}

const f = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : 'n/a');
const mean = (xs: number[]) => {
  const ok = xs.filter(Number.isFinite);
  return ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : Number.NaN;
};
const lines = [
  `# Recovery of planted layer regions`,
  '',
  `${values.participants} participants x ${values.runs} runs per set; ${Number(values.participants) >= 6 ? `group maps thresholded at FWE p < 0.05 (sign-flip permutations, ${values['n-permutations']})` : 'top-k group maps (k = region size; fewer than 6 participants cannot reach FWE p < 0.05)'}; ` +
    `synthesized set: ${sets.synthesized}; natural set: ${sets.natural}.`,
  '',
  '| SNR | condition | mean Dice with its region | mean fraction inside | mean Dice between layers |',
  '| ---: | --- | ---: | ---: | ---: |',
  ...results.map(
    (r) =>
      `| ${r.snr} | ${r.condition} | ${f(mean(r.table.rows.map((x) => x.dice)))} | ${f(mean(r.table.rows.map((x) => x.fractionInside)))} | ${f(r.table.meanOverlap)} |`,
  ),
  '',
  ...results.map((r) => formatRecoveryMarkdown(`SNR ${r.snr}: ${r.condition}`, r.table)),
  '## Timings',
  '',
  ...Object.entries(timings).map(([k, v]) => `- ${k}: ${v.toFixed(1)} s`),
];
const text = `${lines.join('\n')}\n`;
writeFileSync(join(out, 'recovery.md'), text);
writeFileSync(
  join(out, 'recovery.json'),
  `${JSON.stringify({ settings: { ...values, sets }, results, timings }, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`,
);
process.stdout.write(`\n${text}\nwrote ${join(out, 'recovery.md')} and recovery.json\n`);
