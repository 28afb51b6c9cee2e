/**
 * The error of @orthostim/figures: a figure asked for with inconsistent data (a panel whose values
 * are not n*n, an unknown colormap). Callers validate user input first; this names the bad value.
 */
export class FigureError extends Error {
  readonly code = 'E_FIGURE';
  constructor(message: string) {
    super(message);
    this.name = 'FigureError';
  }
}
