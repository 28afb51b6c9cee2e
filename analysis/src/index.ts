/**
 * @orthostim/analysis: from a scanned study to layer maps. `io/` reads and writes NIfTI images and
 * BIDS folders (the only code that touches files); `glm/` fits the per-run GLM on arrays.
 */
// io: NIfTI images and geometry
export * from './io/affine';
export * from './io/nifti';
export { NIFTI_DATATYPES, NIFTI_INTENTS, type NiftiIntent, type NiftiOutputDatatype } from './io/nifti-datatypes';
// glm: the per-run GLM on arrays (nilearn semantics)
export * from './glm/hrf';
export * from './glm/regressors';
export * from './glm/design-matrix';
export * from './glm/signal-scaling';
export * from './glm/smooth-volume';
export {
  type NoiseModel,
  NOISE_MODELS,
  type DesignArrays,
  type GlmFit,
  type FitGlmOptions,
  fitGlm,
} from './glm/fit-glm';
export { fitGlmParallel } from './glm/fit-glm-parallel';
export * from './glm/run-events';
// io: BIDS datasets and the per-run GLM from files
export * from './io/bids';
export * from './io/run-glm';
// searchlight: neighbours of each centre -> RDM of each sphere -> fit of each model RDM
export * from './searchlight/neighbors';
export * from './searchlight/sphere-rdms';
export {
  type SearchlightRunOptions,
  type SearchlightResult,
  type SearchlightKernel,
  runSearchlight,
} from './searchlight/run-searchlight';
export { type SlidingGrid, createSlidingGrid, slidingSphereRdms } from './searchlight/sliding-sphere-rdms';
// rsa: model comparison (standard and residual), ROI RSA
export * from './rsa/compare-models';
export * from './rsa/roi-rsa';
export * from './rsa/residual-variants';
export { prepareUniquePlan, uniqueVariances, type UniquePlan } from './rsa/cv-unique-variance';
// maps and group statistics
export * from './maps/layer-maps';
export * from './stats/sign-flip';
export * from './stats/threshold';
export * from './stats/clusters';
export * from './stats/atlas-labels';
// recovery: layer maps scored against a planted truth (simulated studies)
export * from './recovery/recovery';
export { symmetricEigen } from './glm/linalg';
export * from './pipeline/output-index';
