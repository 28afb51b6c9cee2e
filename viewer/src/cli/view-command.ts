/** `orthostim view <output_dir>`: serve the NiiVue viewer of an output folder on localhost. */
import { Command, Option, info, parseNumberOption } from '@orthostim/protocol/cli';
import { UsageError } from '@orthostim/protocol';
import { startViewer } from '../viewer-server';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

export function buildViewCommand(): Command {
  return new Command('view')
    .description(
      'serve an interactive viewer (NiiVue) of the maps an orthostim output folder lists in its index.json files, on localhost',
    )
    .argument(
      '<output_dir>',
      'an analyze output folder (with sub-<label>/ and group/), or one folder with an index.json',
    )
    .addOption(
      new Option('--port <n>', 'HTTP port (0: any free port)')
        .argParser(parseNumberOption('--port', 0, 65535))
        .default(8090),
    )
    .option(
      '--host <address>',
      'loopback address to listen on (the viewer serves files without authentication)',
      '127.0.0.1',
    )
    .option(
      '--allowed-host <name>',
      'another host name this machine is reached by (repeatable); requests naming any other host are refused (DNS rebinding)',
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .addHelpText(
      'after',
      `
Examples:
  orthostim view out                 # then open http://127.0.0.1:8090/
  orthostim view out/sub-01 --port 0`,
    )
    .action(async (dir: string, opts: { port: number; host: string; allowedHost: string[] }) => {
      if (!LOOPBACK.has(opts.host))
        throw new UsageError(
          `--host must be a loopback address (127.0.0.1, localhost or ::1); got "${opts.host}": the viewer has no access control`,
        );
      const v = await startViewer({ dir, port: opts.port, host: opts.host, allowedHosts: opts.allowedHost ?? [] });
      info(`view: serving ${dir} at ${v.url} (Ctrl-C to stop)`);
      process.stdout.write(`${v.url}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => void v.close().then(resolve);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
