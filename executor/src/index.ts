/**
 * @orthostim/executor: run orthostim's work as separate tasks, in parallel processes here or as
 * SLURM array jobs on a cluster, with the state kept in the output folder. Commands call
 * `runParticipantJobs` / `runGroupJob` / `runSeedJobs` (or `runJobGroup` for anything else) and
 * take their flags from `@orthostim/executor/cli`.
 */
export * from './executor';
export * from './executors';
export * from './job-script';
export * from './job-state';
export * from './local-executor';
export * from './participant-jobs';
export * from './progress-line';
export * from './run-command';
export * from './run-job-group';
export * from './seed-jobs';
export * from './slurm-executor';
export * from './slurm-output';
export * from './task-spec';
export * from './task-status';
