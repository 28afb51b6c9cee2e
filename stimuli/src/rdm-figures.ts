/**
 * The figures of a stimulus set: `rdms.png` (one heatmap per layer) and `layer-similarity.png`
 * (the layer x layer Pearson and Spearman matrices side by side). Drawn by @orthostim/figures.
 */
import sharp from 'sharp';
import { heatmapGridSvg, matrixSvg, svgToPng } from '@orthostim/figures';
import type { StimulusSet } from '@orthostim/protocol';
import { toSquare } from '@orthostim/rdm';

/** Image labels on the axes only while they stay legible. */
const MAX_LABELLED_IMAGES = 40;

const nanFromNull = (v: number | null): number => (v === null ? Number.NaN : v);

/** One heatmap per layer, as percentiles of each layer's dissimilarities (the usual RSA display). */
export async function renderRdmsPng(
  set: Pick<StimulusSet, 'images' | 'layers' | 'distance'>,
  rdms: readonly ArrayLike<number>[],
): Promise<Buffer> {
  const n = set.images.length;
  const svg = heatmapGridSvg({
    title: `RDMs of ${n} images, ${set.distance} distance`,
    panels: set.layers.map((layer, l) => ({
      title: layer,
      n,
      values: toSquare(Array.from(rdms[l]!), n),
    })),
    rank: true,
    labels: n <= MAX_LABELLED_IMAGES ? set.images.map((img) => img.id) : undefined,
  });
  return svgToPng(svg);
}

/** The Pearson and the Spearman layer x layer matrices, side by side. */
export async function renderLayerSimilarityPng(set: Pick<StimulusSet, 'layers' | 'layerSimilarity'>): Promise<Buffer> {
  const labels = set.layers;
  const panels = await Promise.all(
    (['pearson', 'spearman'] as const).map((kind) =>
      svgToPng(
        matrixSvg({
          title: `${kind === 'pearson' ? 'Pearson r' : 'Spearman rho'} between layers' RDMs`,
          values: set.layerSimilarity[kind].map((row) => row.map(nanFromNull)),
          rowLabels: labels,
          colLabels: labels,
          range: [-1, 1],
          colorbarLabel: kind === 'pearson' ? 'r' : 'rho',
        }),
      ),
    ),
  );
  const sizes = await Promise.all(panels.map((p) => sharp(p).metadata()));
  const gap = 20;
  const width = sizes.reduce((w, m) => w + m.width, 0) + gap;
  const height = Math.max(...sizes.map((m) => m.height));
  return sharp({ create: { width, height, channels: 3, background: '#ffffff' } })
    .composite([
      { input: panels[0]!, left: 0, top: 0 },
      { input: panels[1]!, left: sizes[0]!.width + gap, top: 0 },
    ])
    .png()
    .toBuffer();
}
