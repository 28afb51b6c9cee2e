import type { CommandSpec } from '@orthostim/protocol/cli';

/** The subcommands of the simulation workspace. Each `build` imports its module lazily. */
export const commands: CommandSpec[] = [
  {
    name: 'simulate',
    summary: 'write a simulated BIDS study whose layer regions and RDMs are known (ground truth in derivatives/truth)',
    build: async () => (await import('./simulate-command')).buildSimulateCommand(),
  },
];
