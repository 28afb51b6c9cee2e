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
  {
    name: 'view',
    summary: 'serve an interactive NiiVue viewer of an output folder\'s maps on localhost',
    build: async () => (await import('./view-command')).buildViewCommand(),
  },
  {
    name: 'simulate',
    summary: 'write a simulated BIDS study whose layer regions and RDMs are known (ground truth in derivatives/truth)',
    build: async () => (await import('./simulate-command')).buildSimulateCommand(),
  },
  {
    name: 'compare',
    summary: "compare a lab's brain RDMs (JSON, TSV, MAT) with the layer RDMs: layer profiles, noise ceiling, best layer",
    build: async () => (await import('./compare-command')).buildCompareCommand(),
  },
];
