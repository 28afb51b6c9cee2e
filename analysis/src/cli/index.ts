import type { CommandSpec } from '@orthostim/protocol/cli';

/** The subcommands of the analysis workspace. Each `build` imports its module lazily. */
export const commands: CommandSpec[] = [
  {
    name: 'analyze',
    summary: 'BIDS-Apps analysis: GLM, searchlight RSA with the layer RDMs, layer maps, group statistics, reports',
    build: async () => (await import('./analyze-command')).buildAnalyzeCommand(),
  },
  {
    name: 'searchlight',
    summary: 'searchlight RSA on beta maps you already have (SPM, FSL, nilearn)',
    build: async () => (await import('./searchlight-command')).buildSearchlightCommand(),
  },
];
