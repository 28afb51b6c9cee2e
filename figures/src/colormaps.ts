/**
 * Colormaps as 256-entry 8-bit lookup tables, matplotlib-compatible: a value v in [min, max] takes
 * entry floor((v - min) / (max - min) * 256), clipped to 0..255 (matplotlib's ListedColormap rule).
 */
import { FigureError } from './errors';

export interface Colormap {
  readonly name: string;
  readonly kind: 'sequential' | 'diverging';
  /** 256 RGB triples, 768 bytes. */
  readonly lut: Uint8Array;
}

/** Grey for NaN cells: absent from both colormaps, so missing values never pass for data. */
export const NAN_RGB: readonly [number, number, number] = [128, 128, 128];

function lutFromHex(hex: string): Uint8Array {
  const lut = new Uint8Array(hex.length / 2);
  for (let k = 0; k < lut.length; k++) lut[k] = Number.parseInt(hex.slice(2 * k, 2 * k + 2), 16);
  return lut;
}

/** A colormap interpolated linearly between evenly spaced anchor colours ('#rrggbb'). */
export function colormapFromAnchors(name: string, kind: Colormap['kind'], anchors: readonly string[]): Colormap {
  return { name, kind, lut: lutFromAnchors(anchors) };
}

/** 256 entries interpolated linearly between evenly spaced anchors (matplotlib LinearSegmentedColormap). */
function lutFromAnchors(anchors: readonly string[]): Uint8Array {
  const rgb = anchors.map((h) => [1, 3, 5].map((o) => Number.parseInt(h.slice(o, o + 2), 16)));
  const lut = new Uint8Array(768);
  const segments = anchors.length - 1;
  for (let i = 0; i < 256; i++) {
    const t = (i / 255) * segments;
    const s = Math.min(Math.floor(t), segments - 1);
    const f = t - s;
    for (let c = 0; c < 3; c++) {
      const a = rgb[s]![c]!;
      const b = rgb[s + 1]![c]!;
      lut[3 * i + c] = Math.round(a + (b - a) * f);
    }
  }
  return lut;
}

/**
 * viridis (Stéfan van der Walt and Nathaniel Smith, CC0), matplotlib's 256-colour table rounded
 * to 8 bits: #440154 at the bottom, #21918c in the middle, #fde725 at the top.
 */
export const viridis: Colormap = {
  name: 'viridis',
  kind: 'sequential',
  lut: lutFromHex(
    '44015444025645045745055946075a46085c460a5d460b5e470d60470e6147106347116447136548146748166848176948186a481a6c481b6d481c6e481d6f481f70482071482173482374482475482576482677482878482979472a7a472c7a' +
      '472d7b472e7c472f7d46307e46327e46337f463480453581453781453882443983443a83443b84433d84433e85423f854240864241864142874144874045884046883f47883f48893e49893e4a893e4c8a3d4d8a3d4e8a3c4f8a3c508b3b518b' +
      '3b528b3a538b3a548c39558c39568c38588c38598c375a8c375b8d365c8d365d8d355e8d355f8d34608d34618d33628d33638d32648e32658e31668e31678e31688e30698e306a8e2f6b8e2f6c8e2e6d8e2e6e8e2e6f8e2d708e2d718e2c718e' +
      '2c728e2c738e2b748e2b758e2a768e2a778e2a788e29798e297a8e297b8e287c8e287d8e277e8e277f8e27808e26818e26828e26828e25838e25848e25858e24868e24878e23888e23898e238a8d228b8d228c8d228d8d218e8d218f8d21908d' +
      '21918c20928c20928c20938c1f948c1f958b1f968b1f978b1f988b1f998a1f9a8a1e9b8a1e9c891e9d891f9e891f9f881fa0881fa1881fa1871fa28720a38620a48621a58521a68522a78522a88423a98324aa8325ab8225ac8226ad8127ad81' +
      '28ae8029af7f2ab07f2cb17e2db27d2eb37c2fb47c31b57b32b67a34b67935b77937b87838b9773aba763bbb753dbc743fbc7340bd7242be7144bf7046c06f48c16e4ac16d4cc26c4ec36b50c46a52c56954c56856c66758c7655ac8645cc863' +
      '5ec96260ca6063cb5f65cb5e67cc5c69cd5b6ccd5a6ece5870cf5773d05675d05477d1537ad1517cd2507fd34e81d34d84d44b86d54989d5488bd6468ed64590d74393d74195d84098d83e9bd93c9dd93ba0da39a2da37a5db36a8db34aadc32' +
      'addc30b0dd2fb2dd2db5de2bb8de29bade28bddf26c0df25c2df23c5e021c8e020cae11fcde11dd0e11cd2e21bd5e21ad8e219dae319dde318dfe318e2e418e5e419e7e419eae51aece51befe51cf1e51df4e61ef6e620f8e621fbe723fde725',
  ),
};

/** ColorBrewer RdBu (11 classes), reversed: blue for negative, white at the centre, red for positive. */
export const RdBu_r: Colormap = {
  name: 'RdBu_r',
  kind: 'diverging',
  lut: lutFromAnchors(
    [
      '#67001f',
      '#b2182b',
      '#d6604d',
      '#f4a582',
      '#fddbc7',
      '#f7f7f7',
      '#d1e5f0',
      '#92c5de',
      '#4393c3',
      '#2166ac',
      '#053061',
    ].reverse(),
  ),
};

/** Black to white, for anatomical underlays and photographs. */
export const gray: Colormap = { name: 'gray', kind: 'sequential', lut: lutFromAnchors(['#000000', '#ffffff']) };

export type ColormapName = 'viridis' | 'RdBu_r' | 'gray';

export const COLORMAPS = { viridis, RdBu_r, gray } satisfies Record<ColormapName, Colormap>;
export const COLORMAP_NAMES = Object.keys(COLORMAPS) as ColormapName[];

/** The colormap of a name (or the colormap itself, passed through). */
export function resolveColormap(cmap: ColormapName | Colormap): Colormap {
  if (typeof cmap !== 'string') return cmap;
  if (!Object.hasOwn(COLORMAPS, cmap)) {
    throw new FigureError(`colormap must be one of ${COLORMAP_NAMES.join(', ')}; got ${JSON.stringify(cmap)}`);
  }
  return COLORMAPS[cmap];
}

/** LUT index of v: the matplotlib rule; a degenerate range (max == min) maps everything to the middle. */
function lutIndex(v: number, min: number, scale: number): number {
  const k = Math.floor((v - min) * scale);
  return k < 0 ? 0 : k > 255 ? 255 : k;
}

/**
 * RGB bytes (3 per value) of `values` through `cmap` over [min, max]; values outside are clipped
 * to the end colours, NaN becomes NAN_RGB.
 */
export function colorize(
  values: ArrayLike<number>,
  min: number,
  max: number,
  cmap: ColormapName | Colormap = 'viridis',
): Uint8Array {
  const { lut } = resolveColormap(cmap);
  if (!(max >= min)) throw new FigureError(`colorize: need min <= max; got min=${min}, max=${max}`);
  const degenerate = max === min;
  const scale = degenerate ? 0 : 256 / (max - min);
  const out = new Uint8Array(values.length * 3);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    const o = 3 * i;
    if (Number.isNaN(v)) {
      out[o] = NAN_RGB[0];
      out[o + 1] = NAN_RGB[1];
      out[o + 2] = NAN_RGB[2];
      continue;
    }
    const k = 3 * (degenerate ? 128 : lutIndex(v, min, scale));
    out[o] = lut[k] as number;
    out[o + 1] = lut[k + 1] as number;
    out[o + 2] = lut[k + 2] as number;
  }
  return out;
}

/** `#rrggbb` of a colormap at t in [0, 1] (clipped). */
export function colormapHex(cmap: ColormapName | Colormap, t: number): string {
  const [r, g, b] = colorize([t], 0, 1, cmap);
  return `#${[r, g, b].map((c) => (c as number).toString(16).padStart(2, '0')).join('')}`;
}

/** k colours spread evenly over a colormap: ordered categories such as network layers. */
export function sampleColormap(cmap: ColormapName | Colormap, k: number): string[] {
  return Array.from({ length: k }, (_, i) => colormapHex(cmap, k === 1 ? 0.5 : i / (k - 1)));
}

/** matplotlib's tab10: unordered categories (line-plot series). */
export const CATEGORICAL_COLORS: readonly string[] = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
];
