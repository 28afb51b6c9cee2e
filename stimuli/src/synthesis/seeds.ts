/**
 * Seeds derived from the run seed, so each random draw has its own stream that does not depend on
 * how many numbers other streams used: the noise start of image i, the transform of step t. A
 * resumed run therefore draws exactly what the uninterrupted run drew, with no generator state to
 * save.
 */

/** Named streams (stable numbers: changing one changes every result for that stream). */
export const SEED_STREAMS = { init: 1, transform: 2 } as const;

/** A 32-bit seed from the run seed and a path of integers (rdm's murmur3 finalizer mixing). */
export { deriveSeed } from '@orthostim/rdm';
