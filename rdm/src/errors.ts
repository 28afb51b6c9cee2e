/**
 * The one error class of @orthostim/rdm. rdm is a leaf without dependencies, so it cannot throw
 * protocol's `UsageError`; callers validate user input at their edge (the registries below are
 * enumerable for that) and anything reaching this error is a programming or shape mistake.
 * It extends RangeError so generic handlers still recognise it; `code` is stable and greppable.
 */
export class RdmError extends RangeError {
  readonly code = 'E_RDM';
  constructor(message: string) {
    super(message);
    this.name = 'RdmError';
  }
}

/** `compareRdms: method must be one of spearman, pearson; got "tau"` */
export function unknownNameError(where: string, what: string, got: unknown, allowed: readonly string[]): RdmError {
  return new RdmError(`${where}: ${what} must be one of ${allowed.join(', ')}; got ${JSON.stringify(got)}`);
}
