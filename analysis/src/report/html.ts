/**
 * Building blocks of the self-contained HTML reports: every figure is inline SVG or a PNG data
 * URI, so a report is one file that opens anywhere (mail it, archive it) without its folder.
 */
import { colormapHex, escapeXml, type Colormap, type ColormapName } from '@orthostim/figures';
import type { Mosaic } from './mosaic';

export const esc = escapeXml;

export function pngImg(png: Uint8Array, alt: string, width?: number): string {
  return `<img alt="${esc(alt)}" src="data:image/png;base64,${Buffer.from(png).toString('base64')}"${width ? ` width="${width}"` : ''}>`;
}

/** An SVG figure inline (figures' builders return complete SVG documents). */
export function svgFigure(svg: string, caption?: string): string {
  return `<figure>${svg.replace(/^<\?xml[^>]*>\s*/, '')}${caption ? `<figcaption>${caption}</figcaption>` : ''}</figure>`;
}

export function mosaicFigure(m: Mosaic, alt: string, caption: string, legend = ''): string {
  const z = m.sliceZMm.length
    ? ` Slices at z = ${m.sliceZMm.join(', ')} mm (inferior to superior, left of the image = subject's left, anterior up).`
    : '';
  return `<figure class="mosaic">${pngImg(m.png, alt)}${legend}<figcaption>${caption}${z}</figcaption></figure>`;
}

/** A horizontal colour bar as CSS, with its end values. */
export function colorbarHtml(cmap: ColormapName | Colormap, min: number, max: number, label: string): string {
  const stops = Array.from({ length: 11 }, (_, k) => `${colormapHex(cmap, k / 10)} ${k * 10}%`).join(', ');
  return `<div class="cbar"><span>${fmt(min)}</span><span class="grad" style="background: linear-gradient(to right, ${stops})"></span><span>${fmt(max)}</span> <span class="muted">${esc(label)}</span></div>`;
}

export function legendHtml(items: readonly { color: string; label: string }[]): string {
  return `<div class="legend">${items.map((i) => `<span><i style="background:${i.color}"></i>${esc(i.label)}</span>`).join('')}</div>`;
}

export function fmt(v: number, digits = 3): string {
  if (v === undefined || Number.isNaN(v)) return 'n/a';
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5)) return v.toExponential(2);
  return String(+v.toFixed(digits));
}

export function table(
  headers: readonly string[],
  rows: readonly (readonly (string | number)[])[],
  options: { numeric?: boolean } = {},
): string {
  const cell = (c: string | number) => (typeof c === 'number' ? `<td class="num">${fmt(c)}</td>` : `<td>${c}</td>`);
  const body = rows.length
    ? rows.map((r) => `<tr>${r.map(cell).join('')}</tr>`).join('\n')
    : `<tr><td colspan="${headers.length}" class="muted">(none)</td></tr>`;
  return `<table${options.numeric ? ' class="numeric"' : ''}><thead><tr>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

export function section(id: string, title: string, body: string): string {
  return `<section id="${esc(id)}"><h2>${esc(title)}</h2>\n${body}\n</section>`;
}

export function notesHtml(notes: readonly string[]): string {
  return notes.length
    ? `<ul class="notes">${notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>`
    : '<p class="muted">No skips or warnings.</p>';
}

const CSS = `
body { font-family: 'DejaVu Sans', Verdana, Arial, sans-serif; margin: 0 auto; max-width: 1150px; padding: 1em 1.5em 4em; color: #222; }
h1 { font-size: 1.5em; margin-bottom: .2em; } h2 { font-size: 1.2em; border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
h3 { font-size: 1em; margin: 1.2em 0 .4em; }
nav a { margin-right: 1em; font-size: .9em; }
table { border-collapse: collapse; font-size: .85em; margin: .5em 0; } th, td { border: 1px solid #ddd; padding: 2px 8px; text-align: left; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f3f3f3; }
figure { margin: .8em 0; } figcaption { font-size: .8em; color: #555; max-width: 900px; } figure.mosaic img { image-rendering: pixelated; background: #000; max-width: 100%; }
.unthresholded { border: 2px dashed #b35806; background: #fffaf3; padding: .2em .9em .6em; margin: 1em 0; } .unthresholded > .label { color: #7f3b08; font-weight: bold; }
.muted { color: #777; } .note { background: #fff6d6; border: 1px solid #e8d58a; padding: .5em .8em; }
.cbar { display: flex; align-items: center; gap: .4em; font-size: .8em; margin: .2em 0; } .cbar .grad { display: inline-block; width: 180px; height: 12px; border: 1px solid #999; }
.legend { display: flex; flex-wrap: wrap; gap: .3em 1em; font-size: .85em; margin: .3em 0; } .legend i { display: inline-block; width: 12px; height: 12px; margin-right: 4px; vertical-align: -1px; border: 1px solid #555; }
.grid2 { display: flex; flex-wrap: wrap; gap: 1em 2em; align-items: flex-start; }
dl.kv { display: grid; grid-template-columns: max-content auto; gap: .1em 1em; font-size: .9em; } dl.kv dt { color: #555; } dl.kv dd { margin: 0; }
`;

export function keyValues(pairs: readonly (readonly [string, string])[]): string {
  return `<dl class="kv">${pairs.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join('')}</dl>`;
}

export function page(
  title: string,
  subtitle: string,
  sections: readonly { id: string; title: string; body: string }[],
): string {
  const nav = sections.map((s) => `<a href="#${esc(s.id)}">${esc(s.title)}</a>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><style>${CSS}</style></head>
<body><h1>${esc(title)}</h1><p class="muted">${subtitle}</p><nav>${nav}</nav>
${sections.map((s) => section(s.id, s.title, s.body)).join('\n')}
</body></html>
`;
}
