/**
 * The design matrix of a run as a figure (nilearn's `plot_design_matrix` layout): one column per
 * regressor, time running down, each column scaled to its largest absolute value, grey scale, the
 * regressor names rotated above the columns and coloured by kind.
 */
import { colorize, encodePng, escapeXml, upscaleNearest } from '@orthostim/figures';
import type { DesignColumnKind, DesignMatrix } from '../glm/design-matrix';

const KIND_COLORS: Record<DesignColumnKind, string> = {
  image: '#1f77b4',
  nuisance: '#d62728',
  confound: '#ff7f0e',
  drift: '#7f7f7f',
  constant: '#444444',
};

export function designMatrixSvg(d: DesignMatrix, title: string): string {
  const { nRows: T, nCols: K, values } = d;
  const scaled = new Float64Array(T * K);
  for (let k = 0; k < K; k++) {
    let m = 0;
    for (let t = 0; t < T; t++) m = Math.max(m, Math.abs(values[t * K + k]!));
    for (let t = 0; t < T; t++) scaled[t * K + k] = m > 0 ? values[t * K + k]! / m : 0;
  }
  const rgb = colorize(scaled, -1, 1, 'gray');
  const fx = Math.max(4, Math.min(24, Math.floor(640 / K)));
  const fy = Math.max(1, Math.min(4, Math.floor(420 / T)));
  const png = encodePng(upscaleNearest(rgb, K, T, 3, fx, fy), K * fx, T * fy, 3);
  const labelH = Math.min(170, 7 * Math.max(...d.columns.map((c) => c.name.length)) + 10);
  const left = 46;
  const top = 24 + labelH;
  const w = left + K * fx + 20;
  const h = top + T * fy + 30;
  const labels = d.columns
    .map((c, k) => {
      const x = left + k * fx + fx / 2 + 4;
      return `<text x="${x}" y="${top - 4}" transform="rotate(-60 ${x} ${top - 4})" font-size="11" fill="${KIND_COLORS[c.kind]}">${escapeXml(c.name)}</text>`;
    })
    .join('');
  const ticks = [0, Math.floor(T / 2), T - 1]
    .map((t) => `<text x="${left - 4}" y="${top + t * fy + 4}" font-size="10" text-anchor="end">${t}</text>`)
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="'DejaVu Sans', Verdana, Arial, sans-serif">
<text x="${left}" y="16" font-size="13" font-weight="bold">${escapeXml(title)}</text>${labels}${ticks}
<text x="12" y="${top + (T * fy) / 2}" font-size="11" transform="rotate(-90 12 ${top + (T * fy) / 2})" text-anchor="middle">volume</text>
<image x="${left}" y="${top}" width="${K * fx}" height="${T * fy}" preserveAspectRatio="none" style="image-rendering:pixelated" href="data:image/png;base64,${png.toString('base64')}"/>
<rect x="${left}" y="${top}" width="${K * fx}" height="${T * fy}" fill="none" stroke="#333"/>
</svg>`;
}

/** Legend of the column colours. */
export const DESIGN_KIND_LEGEND = (Object.keys(KIND_COLORS) as DesignColumnKind[]).map((k) => ({
  color: KIND_COLORS[k],
  label: { image: 'image', nuisance: 'of no interest', confound: 'confound', drift: 'drift', constant: 'constant' }[k],
}));
