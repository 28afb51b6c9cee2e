/**
 * @orthostim/stimuli: networks (BVLC GoogLeNet from plain TF.js ops, its weights loaders), the
 * compute backend, and (added by their modules) feature extraction, RDMs and synthesis.
 */
export * from './backend';
export * from './models/googlenet';
export * from './models/googlenet-layers';
export * from './models/googlenet-spec';
export * from './models/weights';
export * from './models/weights-raw';
export * from './models/weights-digest';
export * from './models/resolve-weights';
export { FastConv2D, PlainConv2D, ConvInputGradPlan, type ConvLayer, type ConvGeometry } from './models/fast-conv';
export { maxPoolFastGrad, maxPoolBackward } from './models/fast-pool';
export { concatChannelsFastGrad } from './models/fast-concat';
