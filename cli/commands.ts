import type { CommandSpec } from '@orthostim/protocol/cli';
import { commands as stimuliCommands } from '@orthostim/stimuli/cli';
import { commands as serverCommands } from '@orthostim/server/cli';
import { commands as analysisCommands } from '@orthostim/analysis/cli';
import { commands as viewerCommands } from '@orthostim/viewer/cli';
import { commands as simulationCommands } from '@orthostim/simulation/cli';
import { commands as compareCommands } from '@orthostim/compare/cli';

/**
 * Every subcommand of `orthostim`, in the order `--help` lists them (the data flow: stimuli,
 * session, analysis, then the tools around it). Each workspace contributes its own specs; a spec
 * loads its heavy modules only when its command runs.
 */
export const COMMANDS: readonly CommandSpec[] = [
  ...stimuliCommands,
  ...serverCommands,
  ...analysisCommands,
  ...viewerCommands,
  ...simulationCommands,
  ...compareCommands,
];
