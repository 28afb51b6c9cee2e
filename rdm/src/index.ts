/**
 * @orthostim/rdm: the reference typed-array RDM math of orthostim (no I/O, no dependencies).
 * Condensed RDMs are upper triangles without the diagonal, row-major ((0,1),(0,2),...,(1,2),...).
 * The differentiable TF.js versions in stimuli/ carry the same names and are tested against these.
 */
export { RdmError } from './errors';
export { pairCount, condensedIndex, imageCountFromPairs, toSquare, fromSquare, upperTriangleMask } from './condensed';
export {
  type PatternDistance,
  type PatternDistanceSpec,
  PATTERN_DISTANCES,
  PATTERN_DISTANCE_NAMES,
  isPatternDistance,
  computeGram,
  computeRdm,
} from './pattern-distance';
export { rankAverage } from './rank';
export {
  type ComparatorName,
  type Comparator,
  pearson,
  spearman,
  kendallTauA,
  COMPARATORS,
  COMPARATOR_NAMES,
  isComparatorName,
  compareRdms,
  fisherZ,
  FISHER_Z_MAX_R,
} from './compare';
export { similarityMatrix, meanAbsOffDiagonal } from './similarity-matrix';
export { type Rng, createRng, createNormalRng, deriveSeed } from './seeded-random';
