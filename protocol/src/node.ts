/**
 * @orthostim/protocol/node: the Node-only side of the shared formats. Reading a stimulus set from
 * disk (file or folder), hashing, and atomic writes that every program uses for its outputs.
 */
export * from './files';
export * from './stimulus-set-io';
export * from './bids-run-files';
export * from './path-inside';
export * from './allowed-hosts';
