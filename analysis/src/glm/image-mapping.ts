/**
 * Which image each events row shows, for datasets whose events name images their own way:
 * `--image-column <name>` takes the image from that column of the events, and `--image-map <tsv>`
 * (columns `value` and `image`) translates the column's values into the stimulus set's image ids.
 * A value the map does not list (or, without a map, that is no image id) is a condition of no
 * image: its rows stay regressors of no interest, named by their trial_type. Pure: the caller
 * reads the files.
 */
import { describeValue, InputError } from '@orthostim/protocol';

export interface ImageMapping {
  /** Events column holding the image (default with a map: trial_type). */
  column: string;
  /** Column value -> image id; without it the values are image ids themselves. */
  map?: ReadonlyMap<string, string>;
}

/** The column that names images when a map is given without --image-column. */
export const DEFAULT_IMAGE_COLUMN = 'trial_type';

const list = (xs: readonly string[]) => (xs.length > 6 ? `${xs.slice(0, 6).join(', ')}, ...` : xs.join(', '));

/** Non-empty lines of a TSV, split into cells (as parseEventsTsv and readTsv split them). */
function tsvLines(text: string): string[][] {
  return text
    .split(/\r?\n/)
    .filter((l) => l.length > 0)
    .map((l) => l.split('\t'));
}

/**
 * Parse an image map: a header with columns `value` and `image`, one row per value. Every image
 * must be an id of the set; a value may appear once.
 */
export function parseImageMap(text: string, source: string, imageIds: readonly string[]): Map<string, string> {
  const [header = [], ...rows] = tsvLines(text);
  const iv = header.indexOf('value');
  const ii = header.indexOf('image');
  if (iv < 0 || ii < 0)
    throw new InputError(
      `${source}: line 1: the header must have the columns "value" and "image"; got ${describeValue(header.join(' '))}`,
    );
  const ids = new Set(imageIds);
  const map = new Map<string, string>();
  rows.forEach((cells, k) => {
    const line = `${source}: line ${k + 2}`;
    if (cells.length !== header.length)
      throw new InputError(`${line}: expected ${header.length} cells, got ${cells.length}`);
    const value = cells[iv]!;
    const image = cells[ii]!;
    if (!ids.has(image))
      throw new InputError(
        `${line}: image ${describeValue(image)} is not an image of the stimulus set (ids: ${list([...ids])})`,
      );
    if (map.has(value)) throw new InputError(`${line}: value ${describeValue(value)} is mapped twice`);
    map.set(value, image);
  });
  if (map.size === 0) throw new InputError(`${source}: no rows; expected one row per value (columns value, image)`);
  return map;
}

/**
 * The image id of each row of an events file (the rows parseEventsTsv returns, in order), or null
 * for a row of no image: the column's value through the map, or the value itself when it is an
 * image id and no map is given. `n/a` is no image.
 */
export function imagesOfEventRows(
  text: string,
  mapping: ImageMapping,
  imageIds: readonly string[],
  source: string,
): (string | null)[] {
  const [header = [], ...rows] = tsvLines(text);
  const c = header.indexOf(mapping.column);
  if (c < 0)
    throw new InputError(
      `${source}: no column ${describeValue(mapping.column)} to take the images from; columns are ${header.join(', ')}`,
    );
  const ids = new Set(imageIds);
  return rows.map((cells) => {
    const value = cells[c];
    if (value === undefined || value === 'n/a' || value === '') return null;
    if (mapping.map) return mapping.map.get(value) ?? null;
    return ids.has(value) ? value : null;
  });
}
