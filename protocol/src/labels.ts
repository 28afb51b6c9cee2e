import { InputError, describeValue } from './errors';

/**
 * Identifiers that end up in file names (image ids, layer names in `desc-` entities, BIDS labels)
 * are checked here so that nothing from outside can name a path.
 */
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const BIDS_LABEL_PATTERN = /^[A-Za-z0-9]{1,64}$/;

/** An image id: letters, digits, `_` and `-`, starting with a letter or digit, at most 64 characters. */
export function checkImageId(id: unknown, where: string): string {
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
    throw new InputError(
      `${where}: an image id must be 1-64 letters, digits, "_" or "-" starting with a letter or digit; got ${describeValue(id)}`,
    );
  }
  return id;
}

/** A BIDS label (sub-, ses-, task-, run- values): alphanumeric only. */
export function checkBidsLabel(label: unknown, where: string): string {
  if (typeof label !== 'string' || !BIDS_LABEL_PATTERN.test(label)) {
    throw new InputError(`${where}: a BIDS label must be 1-64 letters or digits; got ${describeValue(label)}`);
  }
  return label;
}

export function isImageId(id: string): boolean {
  return ID_PATTERN.test(id);
}
