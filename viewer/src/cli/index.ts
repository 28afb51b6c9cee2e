import type { CommandSpec } from '@orthostim/protocol/cli';

/** The subcommands of the viewer workspace. Each `build` imports its module lazily. */
export const commands: CommandSpec[] = [
  {
    name: 'view',
    summary: "serve an interactive NiiVue viewer of an output folder's maps on localhost",
    build: async () => (await import('./view-command')).buildViewCommand(),
  },
];
