import { describe, expect, it } from 'vitest';
import { CATEGORICAL_COLORS } from './colormaps';
import { linePlotSvg, niceTicks } from './line-plot';
import { svgToPng } from './render';
import { decodePng, hexRgb, regionsOfColor } from './testing/decoded-png';

describe('niceTicks', () => {
  it('picks 1, 2 or 5 times a power of ten', () => {
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]); // raw step 1/6 -> 0.2
    expect(niceTicks(0, 7)).toEqual([0, 2, 4, 6]); // raw 1.17 -> 2
    expect(niceTicks(-3, 3)).toEqual([-3, -2, -1, 0, 1, 2, 3]); // raw 1 -> 1
    expect(niceTicks(0.5, 0.5)).toEqual([0.5]);
  });
});

describe('linePlotSvg', () => {
  const series = [
    { name: 'total loss', x: [0, 1, 2, 3], y: [4, 2, 1, 0.5] },
    { name: 'orthogonality <r>', x: [0, 1, 2, 3], y: [1, 0, 0.2, 0.1] },
  ];

  it('draws one path per series with title, axis labels and an escaped legend', () => {
    const svg = linePlotSvg({ series, title: 'Synthesis', xLabel: 'step', yLabel: 'loss' });
    expect(svg.match(/<path /g)).toHaveLength(2);
    for (const s of ['Synthesis', '>step<', '>loss<', 'total loss', 'orthogonality &lt;r&gt;'])
      expect(svg).toContain(s);
  });

  it('on a log axis leaves out non-positive values, breaking the line there', () => {
    const svg = linePlotSvg({ series, logY: true });
    const paths = [...svg.matchAll(/<path d="([^"]+)"/g)].map((m) => m[1]!);
    expect(paths[0]!.match(/M/g)).toHaveLength(1);
    expect(paths[1]!.match(/M/g)).toHaveLength(2); // 1, [0 dropped], 0.2, 0.1
    expect(svg).toContain('>0.1<'); // decade ticks
    expect(svg).toContain('>1<');
  });

  it('renders the series in their palette colours and refuses mismatched x and y', async () => {
    const img = await decodePng(await svgToPng(linePlotSvg({ series })));
    for (const c of CATEGORICAL_COLORS.slice(0, 2))
      expect(regionsOfColor(img, hexRgb(c)).reduce((s, b) => s + b.pixels, 0)).toBeGreaterThan(30);
    expect(() => linePlotSvg({ series: [{ name: 'bad', x: [1, 2], y: [1] }] })).toThrow(
      'linePlotSvg: series "bad" has 2 x values and 1 y values',
    );
  });

  it('named x ticks, dashed lines, shaded bands and series left out of the legend', () => {
    const svg = linePlotSvg({
      series: [
        { name: 'V1', x: [0, 1, 2], y: [0.1, 0.3, 0.2], band: { low: [0, 0.2, 0.1], high: [0.2, 0.4, 0.3] } },
        { name: 'V1 ceiling', x: [0, 2], y: [0.5, 0.5], dashed: true, legend: false },
      ],
      xTicks: [
        { value: 0, label: 'conv1' },
        { value: 1, label: 'inception_3a' },
        { value: 2, label: 'inception_5b' },
      ],
    });
    for (const label of ['>conv1<', '>inception_3a<', '>inception_5b<']) expect(svg).toContain(label);
    expect(svg).toContain('rotate(-35');
    expect(svg.match(/<polygon /g)).toHaveLength(1);
    expect(svg.match(/stroke-dasharray/g)).toHaveLength(1); // the dashed path; no legend line for it
    expect(svg).not.toContain('>V1 ceiling<');
    // The band's top (0.4) is inside the y range: the highest tick is at least 0.5 (the ceiling line).
    expect(svg).toContain('>0.5<');
  });
});
