import type { CommandSpec } from '@orthostim/protocol/cli';

/** The subcommands of the server workspace. */
export const commands: CommandSpec[] = [
  {
    name: 'serve',
    summary: 'run a scanner session: participant display, operator page, triggers, BIDS events',
    build: async () => (await import('./serve-command')).buildServeCommand(),
  },
];
