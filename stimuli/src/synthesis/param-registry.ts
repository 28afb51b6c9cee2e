/** The registry of image parameterizations (`--param`). */
import type { ImageParameterization, ParamName } from './param';
import { createFourierParam } from './param-fourier';
import { createPixelParam } from './param-pixel';

export const PARAMETERIZATIONS = {
  fourier: (size: number) => createFourierParam(size),
  pixel: (size: number) => createPixelParam(size),
} satisfies Record<ParamName, (size: number) => ImageParameterization>;

export const PARAM_NAMES = Object.keys(PARAMETERIZATIONS) as ParamName[];

export function createParam(name: ParamName, size: number): ImageParameterization {
  return PARAMETERIZATIONS[name](size);
}
