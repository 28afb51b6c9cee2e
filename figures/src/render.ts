/** SVG to PNG through sharp (librsvg; text in DejaVu Sans). */
import sharp from 'sharp';

/**
 * PNG bytes of an SVG figure. `scale` multiplies the pixel size (2 for high-DPI reports); the
 * SVG's user unit is one pixel at scale 1.
 */
export async function svgToPng(svg: string, scale = 1): Promise<Buffer> {
  return sharp(Buffer.from(svg), { density: 72 * scale, limitInputPixels: false })
    .png()
    .toBuffer();
}
