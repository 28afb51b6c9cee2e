/** A grid of images with captions (e.g. the stimulus set in a report). */
import { FigureError } from './errors';
import { dataUri, fitText, round, svgDocument, svgText, textWidth } from './svg';

export interface GridImage {
  /** PNG or JPEG file bytes. */
  bytes: Uint8Array;
  caption?: string;
}

export interface ImageGridOptions {
  images: readonly GridImage[];
  /** Images per row (default: about square, at most 8). */
  columns?: number;
  /** Side of each image cell in pixels (default 128); images keep their aspect ratio inside it. */
  cellSize?: number;
  title?: string;
}

const CAPTION_SIZE = 11;

export function imageGridSvg(options: ImageGridOptions): string {
  const { images } = options;
  if (images.length === 0) throw new FigureError('imageGridSvg: no images to draw');
  const cell = options.cellSize ?? 128;
  const columns = Math.max(
    1,
    Math.min(options.columns ?? Math.min(8, Math.ceil(Math.sqrt(images.length))), images.length),
  );
  const rows = Math.ceil(images.length / columns);
  const hasCaptions = images.some((im) => im.caption);
  const captionH = hasCaptions ? CAPTION_SIZE + 8 : 0;
  const gap = 8;
  const margin = 10;
  const top = options.title ? 34 : margin;
  const gridW = columns * cell + (columns - 1) * gap;
  const width = Math.max(gridW, options.title ? textWidth(options.title, 14) * 1.08 : 0) + 2 * margin;
  const parts: string[] = [];
  if (options.title) parts.push(svgText(width / 2, 22, options.title, { size: 14, anchor: 'middle', weight: 'bold' }));
  images.forEach((im, k) => {
    const x = margin + (k % columns) * (cell + gap);
    const y = top + Math.floor(k / columns) * (cell + captionH + gap);
    parts.push(
      `<image x="${round(x)}" y="${round(y)}" width="${cell}" height="${cell}" preserveAspectRatio="xMidYMid meet" href="${dataUri(im.bytes)}"/>`,
    );
    if (im.caption)
      parts.push(
        svgText(x + cell / 2, y + cell + CAPTION_SIZE + 3, fitText(im.caption, CAPTION_SIZE, cell), {
          size: CAPTION_SIZE,
          anchor: 'middle',
        }),
      );
  });
  return svgDocument(width, top + rows * (cell + captionH) + (rows - 1) * gap + margin, parts.join(''));
}
