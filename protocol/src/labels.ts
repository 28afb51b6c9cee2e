import { InputError, describeValue } from './errors';

/** BIDS labels end up in file names; they are checked here so that nothing from outside can name a path. */
const BIDS_LABEL_PATTERN = /^[A-Za-z0-9]{1,64}$/;

/** A BIDS label (sub-, ses-, task-, run- values): alphanumeric only. */
export function checkBidsLabel(label: unknown, where: string): string {
  if (typeof label !== 'string' || !BIDS_LABEL_PATTERN.test(label)) {
    throw new InputError(`${where}: a BIDS label must be 1-64 letters or digits; got ${describeValue(label)}`);
  }
  return label;
}
