/**
 * @orthostim/protocol/cli: the command-line conventions every orthostim program shares, so that a
 * flag means the same thing in every subcommand. Each workspace's `src/cli/` builds its commander
 * `Command`s from these option factories; the root `cli/main.ts` dispatches to them.
 */
import { Command as CommanderCommand, Help, InvalidArgumentError, Option } from 'commander';
import { availableParallelism } from 'node:os';
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

/**
 * The allowed values of a numeric option: every numeric flag of orthostim has one, checked when
 * the command line is parsed (before any work starts) and shown in `--help` as `[range: ...]`.
 */
export interface NumberRange {
  min: number;
  max: number;
  /** Whole numbers only (refuses 1.5). */
  integer?: boolean;
  /** Why the maximum is what it is, e.g. "4 x the 8 cores" (shown in help and errors). */
  maxReason?: string;
  /** Words for the range where the bounds alone do not say it (e.g. "number > 0, or inf"). */
  text?: string;
}

/** The range in words: "whole number from 1 to 32 (4 x the 8 cores)", "number from 0 to 1", "number >= 0". */
export function describeRange(r: NumberRange): string {
  if (r.text) return r.text;
  const kind = r.integer ? 'whole number' : 'number';
  const reason = r.maxReason ? ` (${r.maxReason})` : '';
  if (r.max === Infinity || r.max >= Number.MAX_SAFE_INTEGER)
    return r.min === -Infinity ? kind : `${kind} >= ${String(r.min)}`;
  return r.min === -Infinity
    ? `${kind} <= ${String(r.max)}${reason}`
    : `${kind} from ${String(r.min)} to ${String(r.max)}${reason}`;
}

/** An argument parser that knows the range it accepts (help shows it). */
export type RangedParser = ((value: string) => number) & { range: NumberRange };

/**
 * A commander argument parser that accepts only numbers in `range`, refusing others with a
 * one-line error. `accept` lets through other spellings first (e.g. "inf").
 */
export function parseInRange(
  flag: string,
  range: NumberRange,
  accept?: (value: string) => number | undefined,
): RangedParser {
  const parse = (value: string): number => {
    const special = accept?.(value);
    if (special !== undefined) return special;
    const n = value.trim() === '' ? Number.NaN : Number(value);
    const ok = Number.isFinite(n) && n >= range.min && n <= range.max && (!range.integer || Number.isInteger(n));
    if (!ok) throw new InvalidArgumentError(`${flag} must be a ${describeRange(range)}; got "${value}"`);
    return n;
  };
  return Object.assign(parse, { range });
}

/** The range an option's parser checks, if it is a ranged parser. */
export function rangeOfOption(option: Option): NumberRange | undefined {
  return (option.parseArg as Partial<RangedParser> | undefined)?.range;
}

/** Give a numeric option its range: the parser that checks it (help shows it as `[range: ...]`). */
export function withRange(option: Option, range: NumberRange): Option {
  return option.argParser(parseInRange(option.long ?? option.flags, range));
}

/** A numeric option with its range (see withRange). */
export function numberOption(flags: string, description: string, range: NumberRange): Option {
  return withRange(new Option(flags, description), range);
}

/** Worker threads may be at most this many times the cores: more only adds contention (and memory). */
export const THREADS_PER_CORE_LIMIT = 4;

/** The range of a `--threads`/`--workers` option on this machine: 1 to 4 x the cores. */
export function threadsRange(): NumberRange {
  const cores = availableParallelism();
  return {
    min: 1,
    max: THREADS_PER_CORE_LIMIT * cores,
    integer: true,
    maxReason: `${THREADS_PER_CORE_LIMIT} x the ${cores} core${cores === 1 ? '' : 's'}`,
  };
}

export function parsePositiveInt(name: string) {
  return parseInRange(name, { min: 1, max: Number.MAX_SAFE_INTEGER, integer: true });
}

export function parseNumberOption(name: string, min = -Infinity, max = Infinity) {
  return parseInRange(name, { min, max });
}

/** Largest image side the network is run at (a 2048 px image is 50 MB of float32 input alone). */
export const MAX_IMAGE_SIZE = 2048;

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
    numberOption('--size <px>', 'image side in pixels the network sees', {
      min: 32,
      max: MAX_IMAGE_SIZE,
      integer: true,
    }).default(224),
  out: () => new Option('--out <dir>', 'output folder (refused if it exists and is not empty, unless --overwrite)'),
  overwrite: () =>
    new Option(
      '--overwrite',
      'replace an existing output folder that orthostim wrote and that holds none of the inputs (only once the new output is complete)',
    ),
  backend: () =>
    new Option(
      '--backend <name>',
      'compute backend (default: node if @tensorflow/tfjs-node loads, else wasm; also $ORTHOSTIM_BACKEND)',
    ).choices(['node', 'wasm', 'cpu']),
  batchSize: () =>
    numberOption('--batch-size <n>', 'images per forward pass', { min: 1, max: 1024, integer: true }).default(16),
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

/** Help that shows each numeric option's range after its description: `[range: whole number from 1 to 8]`. */
class RangeHelp extends Help {
  override optionDescription(option: Option): string {
    const range = rangeOfOption(option);
    const base = super.optionDescription(option);
    return range ? `${base} [range: ${describeRange(range)}]` : base;
  }
}

/** commander's Command whose help (and its subcommands' help) shows the range of numeric options. */
class Command extends CommanderCommand {
  override createCommand(name?: string): Command {
    return new Command(name);
  }
  override createHelp(): Help {
    return Object.assign(new RangeHelp(), this.configureHelp());
  }
}

export { Command, Option };
