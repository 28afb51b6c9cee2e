import { describe, expect, it } from 'vitest';
import { InputError } from '@orthostim/protocol';
import { imageIdsFor } from './image-ids';

describe('imageIdsFor', () => {
  it('numbers the files, or keeps each file name without its extension', () => {
    const files = ['/a/face.jpg', '/a/house.PNG', '/b/scrambled-pix_2.jpeg'];
    expect(imageIdsFor(files, 'numbered')).toEqual(['stim-01', 'stim-02', 'stim-03']);
    expect(imageIdsFor(files, 'stem')).toEqual(['face', 'house', 'scrambled-pix_2']);
  });

  it('names both files of a clash, and a stem that is no valid id', () => {
    expect(() => imageIdsFor(['/a/face.jpg', '/a/cat.png', '/b/face.png'], 'stem')).toThrow(
      new InputError('/a/face.jpg and /b/face.png both give the image id "face"; image ids must be unique'),
    );
    expect(() => imageIdsFor(['/a/my photo.jpg'], 'stem')).toThrow(
      /^\/a\/my photo\.jpg: image id "my photo" \(its stem\) is not valid; expected 1-64 letters/,
    );
  });
});
