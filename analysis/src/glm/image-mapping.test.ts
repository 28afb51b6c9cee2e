import { describe, expect, it } from 'vitest';
import { parseEventsTsv } from '@orthostim/protocol';
import { imagesOfEventRows, parseImageMap } from './image-mapping';
import { toRunEvents } from './run-events';

const IDS = ['kodim01', 'ocelot'];
const EVENTS = [
  'onset\tduration\ttrial_type\tcategory',
  '0\t2\tface\tfaces',
  '', // blank lines are skipped by both readers
  '4\t2\thouse\thouses',
  '8\t2\tscrambledpix\tn/a',
  '12\t2\tmissed\tfaces',
].join('\n');

describe('image mapping of events rows', () => {
  it('maps a chosen column through the map; other values are conditions of no image', () => {
    const map = parseImageMap('value\timage\nfaces\tocelot\nhouses\tkodim01\n', 'map.tsv', IDS);
    const imageOfRow = imagesOfEventRows(EVENTS, { column: 'category', map }, IDS, 'ev.tsv');
    expect(imageOfRow).toEqual(['ocelot', 'kodim01', null, 'ocelot']);
    const events = toRunEvents(parseEventsTsv(EVENTS, 'ev.tsv'), [], 'ev.tsv', imageOfRow);
    // A missed trial is never its planned image, whatever the column says.
    expect(events.map((e) => [e.trialType, e.imageId])).toEqual([
      ['face', 'ocelot'],
      ['house', 'kodim01'],
      ['scrambledpix', null],
      ['missed', null],
    ]);
  });

  it('without a map, values are image ids or no image', () => {
    expect(imagesOfEventRows(EVENTS, { column: 'trial_type' }, ['face', 'cat'], 'ev.tsv')).toEqual([
      'face',
      null,
      null,
      null,
    ]);
  });

  it('refuses a map image that is not in the set, a value mapped twice, and an unknown column', () => {
    expect(() => parseImageMap('value\timage\nfaces\tstim-09\n', 'map.tsv', IDS)).toThrow(
      /^map\.tsv: line 2: image "stim-09" is not an image of the stimulus set \(ids: kodim01, ocelot\)$/,
    );
    expect(() => parseImageMap('value\timage\nfaces\tocelot\nfaces\tkodim01\n', 'map.tsv', IDS)).toThrow(
      'map.tsv: line 3: value "faces" is mapped twice',
    );
    expect(() => parseImageMap('name\timage\n', 'map.tsv', IDS)).toThrow(/columns "value" and "image"/);
    expect(() => imagesOfEventRows(EVENTS, { column: 'stim' }, IDS, 'ev.tsv')).toThrow(
      'ev.tsv: no column "stim" to take the images from; columns are onset, duration, trial_type, category',
    );
  });
});
