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
export { type NoiseModel, NOISE_MODELS, type DesignArrays, type GlmFit, type FitGlmOptions, fitGlm } from './glm/fit-glm';
