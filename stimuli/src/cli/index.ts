import type { CommandSpec } from '@orthostim/protocol/cli';

/** The subcommands of the stimuli workspace. Each `build` imports its module lazily. */
export const commands: CommandSpec[] = [
  {
    name: 'rdms',
    summary: 'compute layer RDMs of an image folder and write a stimulus set',
    build: async () => (await import('./rdms-command')).buildRdmsCommand(),
  },
  {
    name: 'model',
    summary: 'list, inspect, verify and fetch network weights',
    build: async () => (await import('./model-command')).buildModelCommand(),
  },
  {
    name: 'synthesize',
    summary: "synthesize images whose layer RDMs are orthogonal across GoogLeNet's layers",
    build: async () => (await import('./synthesize-command')).buildSynthesizeCommand(),
  },
];
