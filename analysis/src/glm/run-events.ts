/**
 * From BIDS event rows to GLM events: which rows are trials of the stimulus set's images, which are
 * other trial types (regressors of no interest) and which are the implicit baseline. Pure: the
 * caller reads the files.
 *
 * A row is an image trial when its `stim_file` or `stim_id` is given (orthostim's session server
 * writes both) or its `trial_type` is an image id of the set (any BIDS dataset with one trial_type
 * per image). An image trial must name an image of the set; `stim_file` matches an image's `file`
 * exactly or with the dataset's `stimuli/<folder>/` prefix. A dataset that names its images another
 * way gives the image of each row instead (`imageOfRow`, from glm/image-mapping): rows of no image
 * are then other trial types, whatever their stim_file, stim_id or trial_type.
 */
import { EVENT_TYPES, InputError } from '@orthostim/protocol';
import type { EventsRow } from '@orthostim/protocol';
import type { RunEvent } from './design-matrix';

export interface SetImage {
  id: string;
  file: string;
}

/**
 * trial_type values the design leaves out: `null` trials (the implicit baseline) and the session
 * server's fault markers (zero-duration records of a display disconnect/reconnect, an abort or a
 * log cut short), which mark moments, not stimulation. `missed` trials (planned, never shown) are
 * not here: they become a regressor of no interest, never the image they would have shown.
 */
export const UNMODELLED_TRIAL_TYPES: readonly string[] = [
  EVENT_TYPES.null,
  EVENT_TYPES.displayDisconnected,
  EVENT_TYPES.displayConnected,
  EVENT_TYPES.runAborted,
  EVENT_TYPES.logEnds,
];

export function toRunEvents(
  rows: readonly EventsRow[],
  images: readonly SetImage[],
  source: string,
  imageOfRow?: readonly (string | null)[],
): RunEvent[] {
  if (imageOfRow) {
    if (imageOfRow.length !== rows.length)
      throw new RangeError(`toRunEvents: ${imageOfRow.length} row images for ${rows.length} rows`);
    return rows.map((r, i) => ({
      onsetS: r.onset,
      durationS: r.duration,
      imageId: r.trial_type === 'missed' ? null : imageOfRow[i]!,
      trialType: r.trial_type,
    }));
  }
  const ids = new Set(images.map((i) => i.id));
  const byFile = (stimFile: string) => images.find((img) => stimFile === img.file || stimFile.endsWith(`/${img.file}`));
  const list = (xs: string[]) => (xs.length > 6 ? `${xs.slice(0, 6).join(', ')}, ...` : xs.join(', '));
  return rows.map((r, i) => {
    const line = `${source}: row ${i + 1} (onset ${r.onset})`;
    if (r.duration < 0)
      throw new InputError(`${line}: duration ${r.duration} is negative; expected a duration >= 0 in seconds`);
    let imageId: string | null = null;
    if (r.stim_file !== null) {
      const img = byFile(r.stim_file);
      if (!img)
        throw new InputError(
          `${line}: stim_file "${r.stim_file}" is not an image of the stimulus set (files: ${list(images.map((x) => x.file))})`,
        );
      imageId = img.id;
    } else if (r.stim_id !== null && r.trial_type !== 'missed') {
      if (!ids.has(r.stim_id))
        throw new InputError(
          `${line}: stim_id "${r.stim_id}" is not an image of the stimulus set (ids: ${list([...ids])})`,
        );
      imageId = r.stim_id;
    } else if (ids.has(r.trial_type)) {
      imageId = r.trial_type;
    }
    if (imageId !== null && r.trial_type !== imageId && ids.has(r.trial_type)) {
      throw new InputError(`${line}: trial_type "${r.trial_type}" and stim_file/stim_id (image "${imageId}") disagree`);
    }
    return { onsetS: r.onset, durationS: r.duration, imageId, trialType: r.trial_type };
  });
}

/**
 * Events and run length must agree: an event starting at or after the end of the run
 * (nScans x TR) means the TR or the events file is wrong.
 */
export function checkEventsFitRun(
  events: readonly RunEvent[],
  nScans: number,
  repetitionTimeS: number,
  source: string,
): void {
  const end = nScans * repetitionTimeS;
  const late = events.filter((e) => e.onsetS >= end);
  if (late.length > 0) {
    throw new InputError(
      `${source}: ${late.length} event(s) start at or after the end of the run (first at ${late[0]!.onsetS} s; the run is ${nScans} volumes x TR ${repetitionTimeS} s = ${end} s); check the TR and the events`,
    );
  }
  if (!events.some((e) => e.imageId !== null)) {
    const types = [...new Set(events.map((e) => e.trialType))];
    throw new InputError(
      `${source}: no trial of any stimulus-set image in this run (its trial types: ${types.slice(0, 8).join(', ')}${types.length > 8 ? ', ...' : ''}); map them to image ids with an image map`,
    );
  }
}
