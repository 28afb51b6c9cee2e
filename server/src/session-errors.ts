import { InputError } from '@orthostim/protocol';

/** A run id that does not exist (-> 404). */
export class NotFoundError extends InputError {}

/** The dataset could not be written (a full disk, a read-only mount) (-> 507). */
export class StorageError extends Error {}
