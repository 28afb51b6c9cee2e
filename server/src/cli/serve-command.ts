import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Option, info, options, parseNumberOption } from '@orthostim/protocol/cli';
import {
  InputError,
  UsageError,
  defaultSessionConfig,
  parseSessionConfig,
  type SessionConfig,
} from '@orthostim/protocol';
import { readStimulusSet } from '@orthostim/protocol/node';
import { systemClock } from '../clock';
import { generateToken, isLoopbackHost } from '../http/auth';
import { startSessionServer, type SessionServer } from '../http/server';
import { createTriggerSource, parseTriggerSpec, type TriggerSpec } from '../triggers';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const DEFAULT_STIMULI = join(REPO_ROOT, 'stimuli', 'sets', 'default');
const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

interface ServeOptions {
  stimuli?: string;
  config?: string;
  data: string;
  port: number;
  host: string;
  emulateScanner?: boolean;
  tr?: number;
  jitterMs: number;
  dropRate: number;
  trigger?: string;
  token?: string;
  allowedHost?: string[];
  fsync: boolean;
  printConfig?: boolean;
}

function loadConfig(path: string | undefined): SessionConfig {
  if (!path) return defaultSessionConfig();
  if (!existsSync(path)) throw new InputError(`--config: ${path} does not exist`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new InputError(`${path}: not valid JSON (${(err as Error).message})`);
  }
  return parseSessionConfig(json, path);
}

export function buildServeCommand(): Command {
  return new Command('serve')
    .description(
      'Serve a scanner session: the participant display (jsPsych), the operator page and the HTTP API; triggers from a serial port, the display keyboard or the built-in emulator; BIDS events into --data.',
    )
    .addOption(options.stimuli().default(undefined, 'stimuli/sets/default'))
    .option('--config <file>', 'session config (JSON; see docs/session.md; --print-config shows the defaults)')
    .option(
      '--data <bids-dir>',
      'BIDS dataset to add the runs to (created if missing; existing files are never overwritten)',
      'orthostim-data',
    )
    .addOption(
      new Option('--port <n>', 'HTTP port (0: any free port)')
        .argParser(parseNumberOption('--port', 0, 65535))
        .default(8080),
    )
    .option('--host <address>', 'address to listen on; anything but loopback requires the access token', '127.0.0.1')
    .option('--emulate-scanner', 'use the built-in scanner emulator as the trigger source')
    .addOption(
      new Option('--tr <s>', 'repetition time in seconds (overrides the config; the emulator pulses at it)').argParser(
        parseNumberOption('--tr', 0.1, 20),
      ),
    )
    .addOption(
      new Option('--jitter-ms <ms>', 'emulator: SD of pulse timing jitter')
        .argParser(parseNumberOption('--jitter-ms', 0, 1000))
        .default(0),
    )
    .addOption(
      new Option('--drop-rate <p>', 'emulator: probability a pulse is lost')
        .argParser(parseNumberOption('--drop-rate', 0, 1))
        .default(0),
    )
    .option(
      '--trigger <source>',
      'trigger source: serial:<path>[@baud] or keyboard (a trigger box typing into the display)',
    )
    .option('--token <token>', 'access token (default: generated when --host is not loopback)')
    .option(
      '--allowed-host <name>',
      "a host name the display or operator may reach this server by, besides loopback, --host and this machine's addresses and hostname (repeatable; requests naming any other host are refused, against DNS rebinding)",
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option(
      '--no-fsync',
      'do not fdatasync the raw log at every record (faster, but a power cut may lose the last records)',
    )
    .option('--print-config', 'print the resolved session config and exit')
    .addHelpText(
      'after',
      `
Examples:
  orthostim serve --emulate-scanner --tr 2                     # try it: default set, emulated scanner
  orthostim serve --stimuli natural16 --trigger serial:/dev/ttyUSB0@115200 --data /data/study
  orthostim serve --trigger keyboard --host 0.0.0.0            # display on another machine (token printed)
  orthostim serve --host 0.0.0.0 --allowed-host scanner-pc.lab # also answer to that DNS name
  curl -X POST localhost:8080/api/runs -H 'content-type: application/json' -d '{"participant":"01","run":1}'
  curl -X POST localhost:8080/api/runs/<id>/abort -H 'content-type: application/json'

Security: requests must name this machine in Host; a request with an Origin header must come from
the server's own pages; POST needs Content-Type: application/json. Only the display connected when
a run is armed writes into it. See "Security and failure model" in docs/session.md.`,
    )
    .action(runServe);
}

function triggerSpecOf(opts: ServeOptions): TriggerSpec {
  if (opts.emulateScanner && opts.trigger)
    throw new UsageError('--emulate-scanner and --trigger are exclusive: choose one trigger source');
  if (opts.emulateScanner) return { kind: 'emulator' };
  return opts.trigger ? parseTriggerSpec(opts.trigger) : { kind: 'keyboard' };
}

function stimuliPathOf(opts: ServeOptions): string {
  if (opts.stimuli) return opts.stimuli;
  if (!existsSync(join(DEFAULT_STIMULI, 'stimulus-set.json'))) {
    throw new UsageError(
      `no default stimulus set at ${DEFAULT_STIMULI}: pass --stimuli <folder with a stimulus-set.json> (make one with \`orthostim rdms ../shared/data/photos/natural16 --out natural16\`)`,
    );
  }
  return DEFAULT_STIMULI;
}

function reportRecovery(server: SessionServer): void {
  for (const r of server.session.recovered) {
    for (const note of r.notes) info(`recovery: ${note}`);
    if (r.error) info(`run ${r.id}: could not be recovered (${r.error})`);
    else if (r.eventsFile && r.state === 'incomplete')
      info(`interrupted run ${r.id}: closed as incomplete, events written to ${r.eventsFile}`);
    else if (r.eventsFile) info(`run ${r.id} (${r.state}): missing events files written to ${r.eventsFile}`);
  }
}

function closeOnSignals(server: SessionServer): void {
  const shutdown = (signal: string) => {
    info(`${signal}: closing (an armed or running run is closed as incomplete)`);
    server.close().then(
      () => process.exit(0),
      (err) => {
        process.stderr.write(`orthostim serve: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

async function runServe(opts: ServeOptions): Promise<void> {
  const config = loadConfig(opts.config);
  if (opts.tr !== undefined) config.repetitionTimeS = opts.tr;
  const checked = parseSessionConfig(config, opts.config ?? '--tr');
  if (opts.printConfig) {
    process.stdout.write(`${JSON.stringify(checked, null, 2)}\n`);
    return;
  }
  const spec = triggerSpecOf(opts);
  const stimuli = readStimulusSet(stimuliPathOf(opts));
  const token = opts.token ?? (isLoopbackHost(opts.host) ? null : generateToken());
  const triggerSource = createTriggerSource(spec, {
    clock: systemClock,
    config: checked,
    emulator: { jitterMs: opts.jitterMs, dropProbability: opts.dropRate },
  });
  const server = await startSessionServer({
    stimuli,
    config: checked,
    dataDir: resolve(opts.data),
    triggerSource,
    host: opts.host,
    port: opts.port,
    token,
    allowedHosts: opts.allowedHost ?? [],
    version: VERSION,
    fsync: opts.fsync,
  });
  reportRecovery(server);
  info(
    `stimulus set: ${stimuli.path} (${stimuli.set.images.length} images, sha256 ${stimuli.set.sha256.slice(0, 12)}…)`,
  );
  info(`data: ${resolve(opts.data)}`);
  info(`triggers: ${triggerSource.description}`);
  if (token) info(`access token: ${token}`);
  process.stdout.write(`display:  ${server.displayUrl}\noperator: ${server.operatorUrl}\n`);
  closeOnSignals(server);
  await new Promise(() => {}); // serve until a signal
}
