/**
 * @orthostim/protocol/cli: the command-line conventions every orthostim program shares, so that a
 * flag means the same thing in every subcommand. Each workspace's `src/cli/` builds its commander
 * `Command`s from these option factories; the root `cli/main.ts` dispatches to them.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import cliProgress from 'cli-progress';
import { UsageError } from './errors';

/** A subcommand as the root dispatcher knows it: name and summary now, the full command on demand. */
export interface CommandSpec {
  name: string;
  summary: string;
  /** Build the full command (loads the heavy modules only when the command is used). */
  build(): Promise<Command>;
}

/** Split a list given as `a,b c` or repeated flags into names. */
export function parseList(value: string, previous: string[] | undefined): string[] {
  const items = value.split(/[\s,]+/).filter(Boolean);
  return [...(previous ?? []), ...items];
}

export function parsePositiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0)
      throw new InvalidArgumentError(`${name} must be a positive whole number; got "${value}"`);
    return n;
  };
}

export function parseNumberOption(name: string, min = -Infinity, max = Infinity) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max)
      throw new InvalidArgumentError(`${name} must be a number in [${min}, ${max}]; got "${value}"`);
    return n;
  };
}

/** Option factories: one definition per flag for the whole suite. */
export const options = {
  stimuli: () => new Option('--stimuli <path>', 'a stimulus-set.json file or the folder holding it'),
  weights: () =>
    new Option(
      '--weights <path>',
      'network weights: a raw-weights folder, an ONNX file, a converted cache folder, or a TF.js model.json (default: $ORTHOSTIM_WEIGHTS, then the cache filled by `orthostim model fetch googlenet`)',
    ),
  model: () =>
    new Option(
      '--model <name|path>',
      'the network: googlenet (default; weights from --weights), a fetched zoo network (alexnet, vgg16, resnet50, squeezenet, mobilenetv2, densenet121), an .onnx file, or a TF.js model folder',
    ),
  normalize: () =>
    new Option(
      '--normalize <name>',
      "the network's input convention (not for googlenet): imagenet (RGB [0,1], torchvision mean/std), caffe (BGR [0,255] minus the BVLC mean), none (default: the model card's, a zoo network's, else imagenet)",
    ).choices(['imagenet', 'caffe', 'none']),
  layers: () =>
    new Option(
      '--layers <names...>',
      'layer names (Caffe or Lucid names, comma or space separated; `pixels` is the image itself)',
    ).argParser(parseList),
  activationDistance: () =>
    new Option('--distance <name>', 'dissimilarity between activation patterns')
      .choices(['correlation', 'euclidean', 'cosine'])
      .default('correlation'),
  size: () =>
    new Option('--size <px>', 'image side in pixels the network sees')
      .argParser(parsePositiveInt('--size'))
      .default(224),
  out: () => new Option('--out <dir>', 'output folder (refused if it exists and is not empty, unless --overwrite)'),
  overwrite: () =>
    new Option('--overwrite', 'replace an existing output folder (only once the new output is complete)'),
  backend: () =>
    new Option(
      '--backend <name>',
      'compute backend (default: node if @tensorflow/tfjs-node loads, else wasm; also $ORTHOSTIM_BACKEND)',
    ).choices(['node', 'wasm', 'cpu']),
  batchSize: () =>
    new Option('--batch-size <n>', 'images per forward pass').argParser(parsePositiveInt('--batch-size')).default(16),
};

/** Require an option that commander cannot mark mandatory because `--help` must work without it. */
export function requireOption<T>(value: T | undefined, flag: string, what: string): T {
  if (value === undefined || value === null || value === '') throw new UsageError(`${flag} is required: ${what}`);
  return value;
}

/** Status lines go to stderr so stdout stays clean for results. */
export function info(message: string): void {
  process.stderr.write(`${message}\n`);
}

export interface Progress {
  update(done: number, payload?: Record<string, string | number>): void;
  stop(): void;
}

/**
 * A progress bar on stderr. On a terminal it redraws in place; in a log file (no TTY) it prints a
 * line every few seconds. Set ORTHOSTIM_PROGRESS=0 to silence it.
 */
/** Bars drawing now: a failing command stops them (their redraw timer would keep it alive). */
const liveBars = new Set<cliProgress.SingleBar>();

/** Stop every progress bar still drawing (the command-line layer calls it on an error). */
export function stopAllProgress(): void {
  for (const bar of liveBars) bar.stop();
  liveBars.clear();
}

export function createProgress(label: string, total: number, extraFormat = ''): Progress {
  if (process.env.ORTHOSTIM_PROGRESS === '0') return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {value}/{total} {percentage}% | ETA {eta_formatted}${extraFormat ? ` | ${extraFormat}` : ''}`,
      stream: process.stderr,
      noTTYOutput: true,
      notTTYSchedule: 5000,
      hideCursor: false,
      etaBuffer: 20,
      // Before any progress the ETA is 'INF'/'NULL', which cli-progress's own formatter mangles to "NFs".
      formatTime: (t, options, roundTo) =>
        typeof t === 'number' && Number.isFinite(t) ? cliProgress.Format.TimeFormat(t, options, roundTo) : '?',
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  liveBars.add(bar);
  return {
    update(done, payload) {
      bar.update(done, payload);
    },
    stop() {
      bar.stop();
      liveBars.delete(bar);
    },
  };
}

export { Command, Option };
