/**
 * Root dispatcher of the `orthostim` command line. Parses the subcommand, builds only that one,
 * and turns errors into one line and an exit code: 2 for usage and input errors, 1 for internal
 * ones (stack trace with --verbose).
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { OrthostimError } from '@orthostim/protocol';
import { stopAllProgress } from '@orthostim/protocol/cli';
import { COMMANDS } from './commands';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
const argv = process.argv.slice(2);
const verbose = argv.includes('--verbose') || process.env.ORTHOSTIM_VERBOSE === '1';

function configure(cmd: Command): void {
  cmd.exitOverride();
  cmd.configureOutput({
    outputError: (str, write) => write(`orthostim: ${str.trim().replace(/^error: /, 'error: ')} (see --help)\n`),
  });
  for (const sub of cmd.commands) configure(sub);
}

async function main(): Promise<void> {
  const program = new Command('orthostim')
    .description('Map the layers of a deep network onto the human brain with fMRI.')
    .version(pkg.version, '-V, --version')
    .option('--verbose', 'print stack traces and extra detail')
    .addHelpText(
      'after',
      `
Examples:
  orthostim rdms ../shared/data/photos/natural16 --out natural16
  orthostim model info
  orthostim <command> --help

Docs: docs/README.md`,
    );
  const wanted = argv.find((a) => !a.startsWith('-'));
  for (const spec of COMMANDS) {
    if (spec.name === wanted) {
      program.addCommand(await spec.build());
    } else {
      program.command(spec.name).description(spec.summary).allowUnknownOption().helpOption(false);
    }
  }
  configure(program);
  if (argv.length === 0) {
    program.outputHelp();
    return;
  }
  await program.parseAsync(process.argv);
}

try {
  await main();
} catch (err) {
  stopAllProgress();
  if (err instanceof CommanderError) {
    process.exitCode =
      err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0 ? 0 : 2;
  } else if (err instanceof OrthostimError) {
    process.stderr.write(`orthostim: error: ${err.message}\n`);
    if (verbose) process.stderr.write(`${err.stack}\n`);
    process.exitCode = err.exitCode;
  } else {
    const e = err as Error;
    process.stderr.write(
      `orthostim: internal error: ${e?.message ?? String(err)}${verbose ? '' : ' (run with --verbose for the stack trace)'}\n`,
    );
    if (verbose) process.stderr.write(`${e?.stack}\n`);
    process.exitCode = 1;
  }
  // A failed command ends now: worker threads or timers of the work it abandoned must not keep it
  // running (stderr and stdout to files and pipes are written synchronously on Linux and macOS).
  if (process.exitCode !== 0) process.exit();
}
