/** `orthostim simulate`: parse, call simulateStudy, print a summary. */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { InputError, parseSessionConfig } from '@orthostim/protocol';
import {
  Command,
  Option,
  info,
  options,
  parseInRange,
  parseNumberOption,
  parsePositiveInt,
  requireOption,
} from '@orthostim/protocol/cli';
import { SIMULATION_DEFAULTS, simulateStudy } from '../simulate-study';

interface SimulateFlags {
  stimuli?: string;
  out?: string;
  participants: number;
  runs: number;
  tr: number;
  snr: number;
  seed: number;
  layers?: string[];
  voxelMm: number;
  task: string;
  config?: string;
  imageTrialsPerRun?: number;
  regionMm: number;
  brainMm: [number, number, number];
  noiseFwhmMm: number;
  noiseHeteroscedasticity: number;
  datatype: 'int16' | 'float32';
  overwrite?: boolean;
}

const parseSnr = parseInRange('--snr', { min: Number.MIN_VALUE, max: Infinity, text: 'number > 0, or inf' }, (v) =>
  /^(inf|infinity)$/i.test(v) ? Infinity : undefined,
);

function parseBrainMm(value: string): [number, number, number] {
  const parts = value
    .split(/[,x\s]+/)
    .filter(Boolean)
    .map(Number);
  if (parts.length !== 3 || parts.some((v) => !(v > 0) || !Number.isFinite(v))) {
    throw new InvalidArgumentError(
      `--brain-mm must be three diameters in mm (left-right,posterior-anterior,inferior-superior) such as 120,150,100; got "${value}"`,
    );
  }
  return parts as [number, number, number];
}

const parseSeed = parseInRange('--seed', { min: 0, max: 0xffffffff, integer: true });

export function buildSimulateCommand(): Command {
  const d = SIMULATION_DEFAULTS;
  const command = new Command('simulate')
    .description(
      'write a simulated BIDS study with a known answer: each layer of the stimulus set owns one region (posterior to anterior) whose ' +
        "voxel patterns have that layer's RDM; runs scheduled by the session server's own scheduler; ground truth in derivatives/truth/",
    )
    .addOption(options.stimuli())
    .addOption(
      new Option(
        '--out <bids_dir>',
        'BIDS dataset folder to write (refused if it exists and is not empty, unless --overwrite)',
      ),
    );
  addDesignOptions(command, d);
  addPhantomOptions(command, d);
  return command
    .addOption(options.overwrite())
    .addHelpText(
      'after',
      `
Examples:
  orthostim simulate --stimuli natural16 --out sim-natural16
  orthostim simulate --stimuli natural16 --out sim-quick --participants 4 --runs 4 --snr inf --layers conv1,inception_4a,inception_5b
  orthostim simulate --stimuli photos54 --out sim-rich --runs 8 --image-trials-per-run 40   (54 images, each shown 5-6 times)

The model (docs/simulate.md): y = baseline x (1 + (drift + evoked + AR(${d.ar1}) noise) / 100), in percent signal change;
evoked SD ${d.evokedSdPsc}% (mean over a region's voxels), drift SD ${d.driftSdPsc}% (cosines below 1/128 Hz).`,
    )
    .action(runSimulate);
}

/** Participants, runs, TR, SNR, seed, layers, voxel size, task and the run design. */
function addDesignOptions(command: Command, d: typeof SIMULATION_DEFAULTS): void {
  command
    .addOption(
      new Option('--participants <n>', 'simulated participants')
        .argParser(parsePositiveInt('--participants'))
        .default(d.participants),
    )
    .addOption(new Option('--runs <n>', 'runs per participant').argParser(parsePositiveInt('--runs')).default(d.runs))
    .addOption(
      new Option('--tr <s>', 'repetition time in seconds')
        .argParser(parseNumberOption('--tr', 0.1, 20))
        .default(d.repetitionTimeS),
    )
    .addOption(
      new Option(
        '--snr <x>',
        'SD of the evoked signal in a region voxel / SD of the noise (mean over the region; "inf": no noise)',
      )
        .argParser(parseSnr)
        .default(d.snr),
    )
    .addOption(
      new Option('--seed <s>', 'seed of every random choice (schedules, voxel patterns, baselines, drift, noise)')
        .argParser(parseSeed)
        .default(d.seed),
    )
    .addOption(options.layers().makeOptionMandatory(false))
    .addOption(
      new Option('--voxel-mm <mm>', 'isotropic voxel size')
        .argParser(parseNumberOption('--voxel-mm', 0.5, 10))
        .default(d.voxelMm),
    )
    .addOption(new Option('--task <label>', 'BIDS task label').default(d.task))
    .addOption(
      new Option(
        '--config <file>',
        'session config JSON (run design: repetitions, null trials, SOA, ...; default: the session defaults); --tr overrides its TR',
      ),
    )
    .addOption(
      new Option(
        '--image-trials-per-run <n>',
        "condition-rich design: image trials per run, cut from each participant's image sequence (every image equally often over the runs, plus or minus one; never twice in a row); overrides the config's imageTrialsPerRun, and repetitions no longer applies",
      ).argParser(parsePositiveInt('--image-trials-per-run')),
    );
}

/** The phantom and the noise: region and brain size, spatial and voxel-wise noise, stored datatype. */
function addPhantomOptions(command: Command, d: typeof SIMULATION_DEFAULTS): void {
  command
    .addOption(
      new Option('--region-mm <mm>', 'radius of each layer region')
        .argParser(parseNumberOption('--region-mm', 1, 50))
        .default(d.regionRadiusMm),
    )
    .addOption(
      new Option('--brain-mm <x,y,z>', 'brain ellipsoid diameters: left-right, posterior-anterior, inferior-superior')
        .argParser(parseBrainMm)
        .default([...d.brainMm], d.brainMm.join(',')),
    )
    .addOption(
      new Option(
        '--noise-fwhm-mm <mm>',
        "spatially correlated noise: FWHM of the Gaussian that correlates neighbouring voxels' noise (0: independent)",
      )
        .argParser(parseNumberOption('--noise-fwhm-mm', 0, 100))
        .default(d.noiseFwhmMm),
    )
    .addOption(
      new Option(
        '--noise-heteroscedasticity <sd>',
        "voxel-wise heteroscedastic noise: SD of the log of the voxels' noise SDs (0: one noise level)",
      )
        .argParser(parseNumberOption('--noise-heteroscedasticity', 0, 5))
        .default(d.noiseHeteroscedasticity),
    )
    .addOption(
      new Option('--datatype <type>', 'stored BOLD datatype (float32 keeps the exact simulated values)')
        .choices(['int16', 'float32'])
        .default(d.datatype),
    );
}

/** The action: the flags to simulateStudy, and a summary of what was written. */
async function runSimulate(flags: SimulateFlags): Promise<void> {
  const stimuli = requireOption(flags.stimuli, '--stimuli', 'the stimulus-set.json whose layers are planted');
  const out = requireOption(flags.out, '--out', 'the BIDS dataset folder to write');
  let sessionConfig;
  if (flags.config) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(flags.config, 'utf8'));
    } catch (err) {
      throw new InputError(`--config: ${flags.config}: cannot read a JSON file (${(err as Error).message})`);
    }
    sessionConfig = parseSessionConfig(parsed, flags.config);
  }
  const r = await simulateStudy({
    stimuli,
    outDir: out,
    participants: flags.participants,
    runs: flags.runs,
    repetitionTimeS: flags.tr,
    snr: flags.snr,
    seed: flags.seed,
    ...(flags.layers ? { layers: flags.layers } : {}),
    voxelMm: flags.voxelMm,
    task: flags.task,
    ...(sessionConfig ? { sessionConfig } : {}),
    ...(flags.imageTrialsPerRun !== undefined ? { imageTrialsPerRun: flags.imageTrialsPerRun } : {}),
    regionRadiusMm: flags.regionMm,
    brainMm: flags.brainMm,
    noiseFwhmMm: flags.noiseFwhmMm,
    noiseHeteroscedasticity: flags.noiseHeteroscedasticity,
    datatype: flags.datatype,
    overwrite: flags.overwrite ?? false,
    command: ['orthostim', ...process.argv.slice(2)].join(' '),
    log: info,
  });
  process.stdout.write(
    [
      `simulate: ${r.participants.length} participants x ${r.runs} runs (${r.volumesPerRun[0]} volumes each), grid ${r.dims.join('x')}, ${r.brainVoxels} brain voxels, in ${r.seconds.toFixed(1)} s`,
      ...r.regions.map(
        (g) =>
          `  ${g.layer.padEnd(16)} region ${g.label}: ${g.nVoxels} voxels at (${g.centreMm.map((v) => v.toFixed(1)).join(', ')}) mm, rank ${g.rank}${g.clippedFraction > 1e-6 ? `, ${(100 * g.clippedFraction).toFixed(1)}% of the geometry not embeddable` : ''}`,
      ),
      `wrote ${r.outDir} (ground truth in ${r.outDir}/derivatives/truth/index.json)`,
    ].join('\n') + '\n',
  );
}
