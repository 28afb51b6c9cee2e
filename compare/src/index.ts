/**
 * @orthostim/compare: brain RDMs a lab already has (JSON, TSV, MAT v5/v7.3) against the layer
 * RDMs: layer profiles with bootstrap intervals, the noise ceiling, outputs and report.
 */
export { compareBrainRdms, COMPARE_METHODS, type CompareOptions, type CompareResult } from './compare-brain-rdms';
export { readBrainRdms, rdmsFromArray, ACCEPTED_SHAPES, type BrainRdms, type BrainRegionRdms } from './brain-rdms';
export * from './layer-profiles';
export { readModelRdm, readModelRdms, parseModelRdmSpec, type ModelRdm } from './model-rdms';
export { readBrainRdmsFiles } from './brain-rdms';
export { comparePairwise, type PairComparison, type RegionPairwise } from './pairwise-models';
