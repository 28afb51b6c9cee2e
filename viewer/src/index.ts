/**
 * @orthostim/viewer: an interactive NiiVue viewer of an output folder's maps, served on localhost.
 */
export { startViewer, type ViewerServer } from './viewer-server';
export { listViewerMaps } from './map-listing';
