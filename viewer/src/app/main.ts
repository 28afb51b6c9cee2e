/**
 * The browser side of `orthostim view`: lists the maps of /api/maps by statistic, and shows the
 * chosen one over a background (the mean EPI) in NiiVue, with a threshold and a colour limit.
 * Bundled for the browser with esbuild (viewer-server.ts).
 */
import { Niivue } from '@niivue/niivue';

interface ViewerMap {
  folder: string;
  path: string;
  label: string;
  level: 'participant' | 'group';
  participant?: string;
  layer?: string;
  method?: string;
  stat: string;
  space?: string;
  description?: string;
}

const BACKGROUND_STATS = new Set(['mean-epi']);
const LABEL_STATS = new Set(['wta', 'wta-effect']);
/** Starting threshold and colour limit per statistic (the user changes them freely). */
const DISPLAY_DEFAULTS: Record<string, [number, number]> = {
  r: [0.2, 1],
  z: [0.2, 1.5],
  'mean-z': [0.2, 1],
  t: [2, 8],
  'thresholded-t': [0.001, 8],
  'pseudo-t': [2, 8],
  'thresholded-pseudo-t': [0.001, 8],
  p: [0, 1],
  'fwe-p': [0, 1],
  tsnr: [0, 200],
  'sphere-size': [0, 150],
  beta: [0.2, 2],
};

function el<T extends HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`viewer page lacks #${id}`);
  return e as T;
}

function option(value: string, text: string): HTMLOptionElement {
  const o = document.createElement('option');
  o.value = value;
  o.textContent = text;
  return o;
}

async function main(): Promise<void> {
  const maps = (await (await fetch('/api/maps')).json()) as ViewerMap[];
  const statSel = el<HTMLSelectElement>('stat');
  const mapSel = el<HTMLSelectElement>('maps');
  const bgSel = el<HTMLSelectElement>('bg');
  const thr = el<HTMLInputElement>('thr');
  const max = el<HTMLInputElement>('max');
  const info = el<HTMLDivElement>('info');
  const backgrounds = maps.filter((m) => BACKGROUND_STATS.has(m.stat));
  const overlays = maps.filter((m) => !BACKGROUND_STATS.has(m.stat));
  const stats = [...new Set(overlays.map((m) => m.stat))];
  const preferred =
    ['z', 'mean-z', 'thresholded-t', 'thresholded-pseudo-t', 'r'].find((s) => stats.includes(s)) ?? stats[0];
  for (const s of stats) statSel.append(option(s, s));
  if (preferred) statSel.value = preferred;
  bgSel.append(option('', '(none)'));
  backgrounds.forEach((b, i) => bgSel.append(option(String(i), b.label)));

  const nv = new Niivue({
    backColor: [0, 0, 0, 1],
    show3Dcrosshair: true,
    isColorbar: true,
    crosshairWidth: 1,
    crosshairWidthUnit: 'percent',
    crosshairColor: [1, 1, 1, 0.5],
  });
  await nv.attachToCanvas(el<HTMLCanvasElement>('gl'));
  // For scripting from the browser console (and the browser tests): NiiVue and the map list.
  (window as unknown as { orthostimViewer: unknown }).orthostimViewer = { nv, maps };
  nv.setSliceType(nv.sliceTypeMultiplanar);
  let location = '';
  nv.onLocationChange = (data: unknown) => {
    location = (data as { string?: string }).string ?? '';
    render();
  };

  let shown: ViewerMap[] = [];
  const fillMaps = () => {
    shown = overlays.filter((m) => m.stat === statSel.value);
    const [t, c] = DISPLAY_DEFAULTS[statSel.value] ?? [0, 1];
    thr.value = String(t);
    max.value = String(c);
    mapSel.replaceChildren(...shown.map((m, i) => option(String(i), m.label)));
    if (shown.length) mapSel.value = '0';
  };
  const render = () => {
    const m = shown[Number(mapSel.value)];
    info.textContent = m
      ? `${m.label}\n${m.description ?? ''}\nspace: ${m.space ?? 'n/a'}\nfile: ${m.path}\n${location}`
      : location;
  };
  const load = async () => {
    const m = shown[Number(mapSel.value)];
    if (!m) return;
    let bg = backgrounds[Number(bgSel.value)];
    if (bgSel.value === '' && backgrounds.length) {
      // Default background: the one of the map's own folder, else the first.
      bg = backgrounds.find((b) => b.folder === m.folder) ?? backgrounds[0];
      bgSel.value = String(backgrounds.indexOf(bg!));
    }
    const label = LABEL_STATS.has(m.stat);
    const volumes = [
      ...(bg ? [{ url: `/files/${bg.path}`, colormap: 'gray' }] : []),
      label
        ? { url: `/files/${m.path}`, colormap: 'hsv', cal_min: 0.5, cal_max: 12, opacity: 0.8 }
        : {
            url: `/files/${m.path}`,
            colormap: 'warm',
            colormapNegative: 'winter',
            cal_min: Number(thr.value),
            cal_max: Number(max.value),
            opacity: 0.9,
          },
    ];
    document.body.dataset.state = 'loading';
    try {
      await nv.loadVolumes(volumes);
    } catch (err) {
      document.body.dataset.state = 'error';
      info.textContent = `could not show ${m.path}: ${(err as Error).message}`;
      return;
    }
    document.body.dataset.shown = m.path;
    document.body.dataset.state = 'ready';
    render();
  };
  const retune = () => {
    const overlay = nv.volumes[nv.volumes.length - 1];
    if (!overlay || LABEL_STATS.has(shown[Number(mapSel.value)]?.stat ?? '')) return;
    overlay.cal_min = Number(thr.value);
    overlay.cal_max = Number(max.value);
    nv.updateGLVolume();
  };
  statSel.addEventListener('change', () => {
    fillMaps();
    void load();
  });
  mapSel.addEventListener('change', () => void load());
  bgSel.addEventListener('change', () => void load());
  thr.addEventListener('change', retune);
  max.addEventListener('change', retune);
  fillMaps();
  await load();
}

main().catch((err: Error) => {
  document.body.dataset.state = 'error';
  const info = document.getElementById('info');
  if (info) info.textContent = `viewer error: ${err.message}`;
});
