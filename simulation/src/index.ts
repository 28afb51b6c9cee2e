/**
 * @orthostim/simulation: BIDS studies with a known answer. A phantom brain whose regions follow
 * the layers' RDMs, BOLD series with HRF, drift and AR(1) noise, and the planted truth in
 * `derivatives/truth/` that analysis scores its maps against.
 */
export { simulateStudy, SIMULATION_DEFAULTS, type SimulateOptions, type SimulateResult } from './simulate-study';
export * from './brain-phantom';
export * from './planted-patterns';
