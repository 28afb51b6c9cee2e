import type { CommandSpec } from '@orthostim/protocol/cli';

/** The subcommands of the compare workspace. Each `build` imports its module lazily. */
export const commands: CommandSpec[] = [
  {
    name: 'compare',
    summary:
      "compare a lab's brain RDMs (JSON, TSV, MAT) with the layer RDMs: layer profiles, noise ceiling, best layer",
    build: async () => (await import('./compare-command')).buildCompareCommand(),
  },
];
