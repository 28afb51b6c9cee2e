/** Static files are resolved by the one path check every orthostim file server shares. */
export { resolveInside } from '@orthostim/protocol/node';
