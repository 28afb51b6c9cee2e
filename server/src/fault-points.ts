/**
 * Named points between the steps of finishing a run, for the fault-injection tests: with
 * ORTHOSTIM_KILL_AT=<name> in its environment, the server kills itself (SIGKILL, as `kill -9`
 * would) when it reaches that point, so a test can check what a restart makes of every state the
 * dataset can be left in. Without the variable this does nothing.
 */
export const FINISH_STEPS = [
  'after-state',
  'after-end',
  'after-close',
  'after-events-tsv',
  'after-events-json',
] as const;
export type FinishStep = (typeof FINISH_STEPS)[number];

export function faultPoint(name: FinishStep): void {
  if (process.env.ORTHOSTIM_KILL_AT === name) process.kill(process.pid, 'SIGKILL');
}
