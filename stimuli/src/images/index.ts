/** Image input and output of the stimuli workspace: folder listing, decoding, crop/resize, PNG. */
export { IMAGE_EXTENSIONS, isImageFileName, compareCodePoints, listImageFiles } from './image-files';
export { type RgbImage, type CropBox, centerCropBox, readImageRgb, cropAndResize, prepareImage } from './prepare-image';
export { encodePng, writePng } from './png';
export { type ImageFolder, type ReadImageFolderOptions, listImageFolders, readImageFolder } from './read-image-folder';
