/**
 * The error classes every orthostim program shares. A program throws an `OrthostimError`
 * subclass for anything the user can fix (bad argument, bad file); the command-line layer prints
 * its message as one line and exits with `exitCode`. Any other error is a bug: exit 1, stack trace
 * with --verbose.
 */
export class OrthostimError extends Error {
  /** A stable, greppable code such as `E_USAGE` or `E_INPUT`. */
  readonly code: string;
  /** 2 for usage and input errors (the user's to fix), 1 for everything else. */
  readonly exitCode: number;
  constructor(message: string, code = 'E_ORTHOSTIM', exitCode = 2) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** A bad command-line argument or option value. */
export class UsageError extends OrthostimError {
  constructor(message: string) {
    super(message, 'E_USAGE', 2);
  }
}

/** A file or value from outside that is missing, unreadable or not what was expected. */
export class InputError extends OrthostimError {
  constructor(message: string) {
    super(message, 'E_INPUT', 2);
  }
}

/** Describe a received value briefly for an error message: strings quoted, long ones cut. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    const s = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return JSON.stringify(s);
  }
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return String(value);
}
