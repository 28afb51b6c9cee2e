/**
 * `npm run demo`: the residual method against synthesis, in silico. For each stimulus set (the
 * synthesized default set, the benchmark, and natural photo sets of 16, 32 and 54 images) and SNR,
 * simulate a study with planted layer regions, analyze it (participant level once; group level
 * for each participant count), and score each method's group maps against the planted regions:
 * standard RSA for every set, every residual variant for the natural sets. Every condition has the
 * SAME SCAN TIME: the same runs and volumes, from the condition-rich schedule
 * (`--image-trials-per-run`: more images means fewer showings of each).
 *
 *   npm run demo -- [--quick] [--sets synthesized,natural16,natural32,natural54] [--snr 0.5,1,2]
 *                   [--participants 8,16] [--runs 8] [--image-trials-per-run 64] [--residual all]
 *                   [--n-permutations 1000] [--weights <dir>] [--out demo-output] [--overwrite]
 *
 * `--quick`: synthesized and natural16, SNR 1, 6 participants, 4 runs (docs/residual.md, BENCHMARKS.md).
 * Writes recovery.md (the tables) and recovery.json; prints every step with its time.
 */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  DEFAULT_RESIDUAL_VARIANT,
  formatRecoveryMarkdown,
  parseResidualVariants,
  readRecovery,
  summarizeRecovery,
  unexplainedShares,
  type ModelMethod,
  type RecoveryTable,
} from '@orthostim/analysis';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PHOTOS = resolve(ROOT, '..', 'shared', 'data', 'photos');
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    sets: { type: 'string' },
    synthesized: { type: 'string', default: join(ROOT, 'stimuli', 'sets', 'default') },
    snr: { type: 'string' },
    participants: { type: 'string' },
    runs: { type: 'string' },
    'image-trials-per-run': { type: 'string', default: '64' },
    residual: { type: 'string', default: 'all' },
    'n-permutations': { type: 'string', default: '1000' },
    weights: { type: 'string', default: resolve(ROOT, '..', 'shared', 'models', 'bvlc-googlenet', 'weights') },
    out: { type: 'string', default: join(ROOT, 'demo-output') },
    overwrite: { type: 'boolean', default: false },
  },
});

const quick = values.quick!;
const settings = {
  sets: (values.sets ?? (quick ? 'synthesized,natural16' : 'synthesized,natural16,natural32,natural54')).split(','),
  snrs: (values.snr ?? (quick ? '1' : '0.5,1,2')).split(','),
  participants: (values.participants ?? (quick ? '6' : '8,16')).split(',').map(Number),
  runs: values.runs ?? (quick ? '4' : '8'),
  imageTrialsPerRun: values['image-trials-per-run']!,
  residual: parseResidualVariants(values.residual!, '--residual'),
  nPermutations: values['n-permutations']!,
};
const out = resolve(values.out!);
const fail = (message: string): never => {
  process.stderr.write(`demo: error: ${message}\n`);
  process.exit(2);
};
if (existsSync(out) && !values.overwrite) fail(`${out} exists; choose another --out or pass --overwrite`);
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const timings: Record<string, number> = {};
const started = performance.now();

/** Run one orthostim command, its output streaming through; its time goes to `timings`. */
function step(what: string, args: string[]): void {
  process.stdout.write(`\n== ${what}\n   orthostim ${args.join(' ')}\n`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'orthostim.js'), ...args], {
    stdio: 'inherit',
    env: { ...process.env, ORTHOSTIM_PROGRESS: '0' },
  });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) fail(`step "${what}" failed (exit ${r.status})`);
  timings[what] = seconds;
  process.stdout.write(`== ${what}: done in ${seconds.toFixed(1)} s\n`);
}

/** The 54 distinct photos (natural16 repeats 16 of them), natural16's first: [natural16 ..., others sorted]. */
function distinctPhotos(): string[] {
  const isImage = (f: string) => /\.(png|jpe?g)$/i.test(f);
  const first = readdirSync(join(PHOTOS, 'natural16')).filter(isImage).sort();
  const others = ['cameratrap_cdla', 'kodak_custom', 'pd_cc0_ccby']
    .flatMap((d) =>
      readdirSync(join(PHOTOS, d))
        .filter(isImage)
        .map((f) => join(PHOTOS, d, f)),
    )
    .filter((p) => !first.includes(p.split('/').pop()!))
    .sort((a, b) => a.split('/').pop()!.localeCompare(b.split('/').pop()!));
  return [...first.map((f) => join(PHOTOS, 'natural16', f)), ...others];
}

/** A natural set of the first n distinct photos: a folder of symlinks made into a set by `orthostim rdms`. */
function naturalSet(n: number): string {
  const photos = distinctPhotos();
  if (photos.length < n) fail(`${PHOTOS} holds ${photos.length} distinct photos; natural${n} needs ${n}`);
  const folder = join(out, 'photos', `natural${n}`);
  mkdirSync(folder, { recursive: true });
  for (const p of photos.slice(0, n)) symlinkSync(p, join(folder, p.split('/').pop()!));
  const set = join(out, 'sets', `natural${n}`);
  step(`natural${n}: layer RDMs and activation-residual RDMs`, [
    'rdms',
    folder,
    '--out',
    set,
    '--weights',
    values.weights!,
  ]);
  return set;
}

function stimulusSet(name: string): string {
  if (name === 'synthesized') {
    const p = resolve(values.synthesized!);
    if (!existsSync(p)) fail(`synthesized set ${p} does not exist (make it with \`orthostim synthesize\`)`);
    return p;
  }
  const m = /^natural(\d+)$/.exec(name);
  if (!m) fail(`--sets: "${name}" is not synthesized or natural<n> (16, 32, 54)`);
  return naturalSet(Number(m![1]));
}

interface SetFacts {
  name: string;
  path: string;
  images: number;
  layers: string[];
  /** Per layer: share of its (ranked) RDM no other layer explains, and of its activations (leave-one-out). */
  unexplainedRdm: number[];
  unexplainedActivation: (number | null)[];
}

/** "Why, in numbers": how much of each layer's RDM (and activations) no other layer explains. */
function setFacts(name: string, path: string): SetFacts {
  const file = path.endsWith('.json') ? path : join(path, 'stimulus-set.json');
  const set = JSON.parse(readFileSync(file, 'utf8')) as {
    images: unknown[];
    layers: string[];
    rdms: Record<string, (number | null)[]>;
    activationResiduals?: { explained?: Record<string, number | null> };
  };
  const rdms = set.layers.map((l) => Float64Array.from(set.rdms[l]!, (v) => v ?? Number.NaN));
  const explained = set.activationResiduals?.explained;
  return {
    name,
    path,
    images: set.images.length,
    layers: set.layers,
    unexplainedRdm: unexplainedShares(rdms),
    unexplainedActivation: set.layers.map((l) => (explained?.[l] == null ? null : 1 - explained[l]!)),
  };
}

interface ResultRow {
  snr: string;
  participants: number;
  set: string;
  images: number;
  method: ModelMethod;
  table: RecoveryTable;
}

/** Simulate and analyze one set at one SNR; score every method at every participant count. */
function runCondition(facts: SetFacts, snr: string): ResultRow[] {
  const dir = join(out, `snr-${snr}`, facts.name);
  const bids = join(dir, 'bids');
  const analysis = join(dir, 'analysis');
  const most = Math.max(...settings.participants);
  const synthesized = facts.name === 'synthesized';
  const residual = synthesized ? [] : ['--residual', settings.residual.join(',')];
  const method = synthesized ? 'standard' : 'both';
  step(`${facts.name} SNR ${snr}: simulate ${most} participants x ${settings.runs} runs`, [
    ...['simulate', '--stimuli', facts.path, '--out', bids, '--participants', String(most)],
    ...['--runs', settings.runs, '--image-trials-per-run', settings.imageTrialsPerRun, '--snr', snr],
  ]);
  step(`${facts.name} SNR ${snr}: analyze participant (${method}${residual.length ? `, ${residual[1]}` : ''})`, [
    ...['analyze', bids, analysis, 'participant', '--stimuli', facts.path, '--method', method, ...residual],
  ]);
  const methods: ModelMethod[] = synthesized ? ['standard'] : ['standard', ...settings.residual];
  const rows: ResultRow[] = [];
  for (const n of settings.participants) {
    const labels = Array.from({ length: n }, (_, i) => String(i + 1).padStart(Math.max(2, String(most).length), '0'));
    step(`${facts.name} SNR ${snr}: group of ${n}`, [
      ...['analyze', bids, analysis, 'group', '--stimuli', facts.path],
      ...['--participant-label', ...labels, '--n-permutations', settings.nPermutations],
    ]);
    const groupDir = join(analysis, `group-n${n}`);
    renameSync(join(analysis, 'group'), groupDir);
    for (const m of methods) {
      const table = readRecovery({ analysisDir: analysis, groupDir, bidsDir: bids, method: m, selection: 'fwe' });
      rows.push({ snr, participants: n, set: facts.name, images: facts.images, method: m, table });
    }
  }
  return rows;
}

const f2 = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : 'n/a');

function resultsMarkdown(rows: readonly ResultRow[]): string[] {
  const reference = (r: ResultRow) =>
    rows.find((x) => x.set === 'synthesized' && x.snr === r.snr && x.participants === r.participants);
  return [
    '| SNR | participants | set | method | layers recovered (peak / region mean) | vs synthesized (peak) | fraction inside | Dice between layers | Dice with its region |',
    '| ---: | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => {
      const s = summarizeRecovery(r.table);
      const ref = reference(r);
      const ratio = ref && ref.table.recoveredByPeak > 0 ? r.table.recoveredByPeak / ref.table.recoveredByPeak : NaN;
      return `| ${r.snr} | ${r.participants} | ${r.set} (${r.images}) | ${r.method === 'standard' ? 'standard RSA' : `residual: ${r.method}`} | ${s.recoveredByPeak} / ${s.recoveredByMean} of ${s.layers} | ${Number.isFinite(ratio) ? `${Math.round(ratio * 100)}%` : 'n/a'} | ${f2(s.meanFractionInside)} | ${f2(s.meanOverlap)} | ${f2(s.meanDice)} |`;
    }),
  ];
}

function whyMarkdown(facts: readonly SetFacts[]): string[] {
  const layers = facts[0]?.layers ?? [];
  return [
    "Share of each layer's RDM that no other layer explains (1 - R^2 of its ranked RDM on all others'; activations: leave-one-image-out ridge):",
    '',
    `| set | ${layers.join(' | ')} | mean |`,
    `| --- | ${layers.map(() => '---:').join(' | ')} | ---: |`,
    ...facts.flatMap((s) => {
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const act = s.unexplainedActivation.filter((v): v is number => v !== null);
      return [
        `| ${s.name} RDM | ${s.unexplainedRdm.map(f2).join(' | ')} | ${f2(mean(s.unexplainedRdm))} |`,
        ...(act.length === s.layers.length
          ? [`| ${s.name} activations | ${act.map(f2).join(' | ')} | ${f2(mean(act))} |`]
          : []),
      ];
    }),
  ];
}

const facts = settings.sets.map((name) => setFacts(name, stimulusSet(name)));
const rows = settings.snrs.flatMap((snr) => facts.flatMap((s) => runCondition(s, snr)));
const totalSeconds = (performance.now() - started) / 1000;
const command = `npm run demo -- ${process.argv.slice(2).join(' ')}`.trim();
const text = [
  '# Residual method against synthesis: recovery of planted layer regions',
  '',
  `\`${command}\``,
  '',
  `${settings.runs} runs x ${settings.imageTrialsPerRun} image trials per run for every set (same scan time; condition-rich schedule); ` +
    `group maps thresholded at FWE p < 0.05 (sign flips, ${settings.nPermutations} patterns); default residual variant: ${DEFAULT_RESIDUAL_VARIANT}. ` +
    `Layers recovered: the map's peak lies in its own region / its mean is highest in its own region.`,
  '',
  ...resultsMarkdown(rows),
  '',
  ...whyMarkdown(facts),
  '',
  `Total run time: ${(totalSeconds / 60).toFixed(1)} min.`,
  '',
  ...rows.map((r) =>
    formatRecoveryMarkdown(`SNR ${r.snr}, ${r.participants} participants, ${r.set}: ${r.method}`, r.table),
  ),
  '## Timings',
  '',
  ...Object.entries(timings).map(([k, v]) => `- ${k}: ${v.toFixed(1)} s`),
].join('\n');
writeFileSync(join(out, 'recovery.md'), `${text}\n`);
writeFileSync(
  join(out, 'recovery.json'),
  `${JSON.stringify({ command, settings, facts, results: rows, timings, totalSeconds }, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`,
);
process.stdout.write(`\n${text}\n\nwrote ${join(out, 'recovery.md')} and recovery.json\n`);
