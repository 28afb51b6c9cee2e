/**
 * `orthostim analyze <bids_dir> <output_dir> group`: the participants' Fisher-z layer maps (found
 * through their index.json) tested per layer and method with a one-sample sign-flip permutation
 * test and max-statistic FWE (stats/sign-flip), thresholded maps, winner-take-all over significant
 * voxels, the Dice overlap between thresholded layer maps, and a cluster table (with atlas labels),
 * written into `<output_dir>/group/` atomically.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '@orthostim/protocol';
import { buildOutputDir, writeFileAtomic } from '@orthostim/protocol/node';
import { createProgress } from '@orthostim/protocol/cli';
import { bidsLabels } from '../io/bids';
import { assertSameGrid, readNifti, readVolume3d, type Volume } from '../io/nifti';
import { winnerTakeAll } from '../maps/layer-maps';
import { methodOfFields, type ModelMethod } from '../rsa/compare-models';
import { parseAtlasLabels } from '../stats/atlas-labels';
import { clusterTable, type Atlas, type ClusterRow } from '../stats/clusters';
import { signFlipTest, type SignFlipOptions } from '../stats/sign-flip';
import { TaskPool } from '../parallel/task-pool';
import { diceMatrix, thresholdMap } from '../stats/threshold';
import { writeGroupReport } from '../report/group-report';
import { MapWriter, gridSize, toGrid, type GridRef } from './map-writer';
import { OutputIndexBuilder, bidsFileName, readOutputIndex, type OutputIndex } from './output-index';
import { makeProvenance, PROVENANCE_FILE, writeProvenance } from './provenance';
import { METHOD_LABELS } from './searchlight-stage';
import { resolveVarianceSmoothing, type GroupSettings } from './settings';
import { affineVoxelSizes } from '../io/affine';
import { readRecovery, type RecoveryTable } from '../recovery/recovery';

export interface GroupJob {
  outputDir: string;
  bidsDir: string;
  /** Participants to include (default: every sub-<label>/ with an index.json). */
  participants?: string[];
  settings: GroupSettings;
  threads?: number;
  atlas?: { path: string; labelsPath?: string };
  template?: string;
  overwrite?: boolean;
  settingsRecord: Record<string, unknown>;
}

export interface GroupTest {
  layer: string;
  method: ModelMethod;
  nVoxels: number;
  nSignificant: number;
  maxAbsT: number;
  minFweP: number;
  clusters: ClusterRow[];
  nClusters: number;
  /** Whole-grid maps kept for the report. */
  meanZ: Float32Array;
  thresholdedT: Float32Array;
}

export interface GroupSummary {
  dir: string;
  participants: string[];
  tests: GroupTest[];
  nPatterns: number;
  exhaustive: boolean;
  minAttainableP: number;
  alpha: number;
  /** The statistic of the test: t, or pseudo-t with variance smoothing (FWHM in mm, 0: none). */
  statistic: 't' | 'pseudo-t';
  varianceSmoothingMm: number;
  note?: string;
  seconds: number;
}

interface ParticipantOutputs {
  label: string;
  dir: string;
  index: OutputIndex;
  /** `layer\tmethod` -> z map path. */
  zMaps: Map<string, string>;
  space: string | undefined;
  stimulusSha: string | undefined;
}

const key = (layer: string, method: string) => `${layer}\t${method}`;

function findParticipants(outputDir: string, requested: string[] | undefined): ParticipantOutputs[] {
  if (!existsSync(outputDir))
    throw new InputError(`output_dir ${outputDir} does not exist; run the participant level first`);
  const present = readdirSync(outputDir)
    .filter(
      (f) =>
        /^sub-[A-Za-z0-9]+$/.test(f) &&
        statSync(join(outputDir, f)).isDirectory() &&
        existsSync(join(outputDir, f, 'index.json')),
    )
    .map((f) => f.slice(4))
    .sort();
  const labels = requested ?? present;
  const missing = labels.filter((l) => !present.includes(l));
  if (missing.length > 0) {
    throw new InputError(
      `${outputDir}: no participant-level outputs for sub-${missing.join(', sub-')}; run \`orthostim analyze ... participant --participant-label ${missing.join(' ')}\` first`,
    );
  }
  if (labels.length < 2)
    throw new InputError(
      `${outputDir}: the group level needs at least 2 participants with outputs; found ${labels.length} (${labels.join(', ') || 'none'})`,
    );
  return labels.map((label) => {
    const dir = join(outputDir, `sub-${label}`);
    const index = readOutputIndex(dir);
    const zMaps = new Map<string, string>();
    for (const f of index.files)
      if (f.stat === 'z' && f.layer && f.method) zMaps.set(key(f.layer, methodOfFields(f)!), join(dir, f.path));
    let stimulusSha: string | undefined;
    try {
      const prov = JSON.parse(readFileSync(join(dir, PROVENANCE_FILE), 'utf8')) as {
        inputs?: { stimulusSet?: { sha256?: string } };
      };
      stimulusSha = prov.inputs?.stimulusSet?.sha256;
    } catch {
      stimulusSha = undefined;
    }
    return { label, dir, index, zMaps, space: index.files.find((f) => f.stat === 'z')?.space, stimulusSha };
  });
}

export async function runGroup(job: GroupJob): Promise<GroupSummary> {
  const t0 = performance.now();
  const parts = findParticipants(job.outputDir, job.participants);
  const first = parts[0]!;
  const shas = new Set(parts.map((p) => p.stimulusSha));
  if (shas.size > 1)
    throw new InputError(
      `participants were analysed with different stimulus sets (${[...shas].map((s) => (s ?? 'unknown').slice(0, 12)).join(', ')}); rerun them with one --stimuli`,
    );
  const spaces = new Set(parts.map((p) => p.space));
  if (spaces.size > 1)
    throw new InputError(
      `participants' maps are in different spaces (${[...spaces].join(', ')}); the group level needs maps in one common space (e.g. --derivatives with --space MNI152NLin2009cAsym)`,
    );
  const keys = [...first.zMaps.keys()];
  if (keys.length === 0) throw new InputError(`${first.dir}/index.json lists no z maps`);
  for (const p of parts) {
    const lacking = keys.filter((k) => !p.zMaps.has(k));
    if (lacking.length > 0 || p.zMaps.size !== keys.length) {
      throw new InputError(
        `sub-${p.label} was analysed with other layers or methods than sub-${first.label} (${lacking.length ? `lacks ${lacking.map((k) => k.replace('\t', ' ')).join(', ')}` : 'has more maps'}); rerun the participant level with the same settings`,
      );
    }
  }
  const tests = keys.map((k) => {
    const [layer, method] = k.split('\t') as [string, ModelMethod];
    return { layer, method };
  });
  const layers = [...new Set(tests.map((t) => t.layer))];
  const methods = [...new Set(tests.map((t) => t.method))];
  const space = first.space;
  const outDir = join(job.outputDir, 'group');
  const { alpha, nPermutations, seed, connectivity } = job.settings;
  const varianceSmoothingMm = resolveVarianceSmoothing(job.settings.varianceSmoothingMm, parts.length);
  // Names of the statistic in files and index.json: honest about the pseudo-t.
  const pseudo = varianceSmoothingMm > 0;
  const statName = pseudo ? 'pseudo-t' : 't';
  const statLabel = pseudo ? 'pseudot' : 't';
  const statWords = pseudo
    ? `one-sample pseudo-t over participants (variance smoothed with FWHM ${varianceSmoothingMm} mm)`
    : 'one-sample t over participants';

  return buildOutputDir(
    outDir,
    async (staging) => {
      let grid: GridRef | undefined;
      let gridVol: Volume | undefined;
      const index = new OutputIndexBuilder({ level: 'group', ...(space ? { space } : {}) });
      let writer: MapWriter | undefined;
      let atlas: Atlas | undefined;
      const results: GroupTest[] = [];
      let meta: { nPatterns: number; exhaustive: boolean; minAttainableP: number; note?: string } | undefined;
      const desc = bidsLabels(layers, 'layer');
      const entities = [['space', space]] as const;
      const bar = createProgress(`group tests (${parts.length} participants)`, tests.length);
      // The tests of the layers and methods are independent: with threads > 1 they run on worker
      // threads, up to 3 per thread ahead of the (in-order) writing of their maps, so the workers
      // keep busy while this thread writes maps and clusters.
      const threads = job.threads ?? 1;
      const pool = threads > 1 ? TaskPool.start(threads) : undefined;
      const prepare = (ti: number) => {
        const { layer, method } = tests[ti]!;
        const vols = parts.map((p) => readNifti(p.zMaps.get(key(layer, method))!));
        if (!gridVol) {
          gridVol = vols[0]!;
          grid = {
            dims: [gridVol.dims[0], gridVol.dims[1], gridVol.dims[2]],
            affine: gridVol.affine,
            reference: { qformCode: gridVol.header.qformCode, sformCode: gridVol.header.sformCode },
          };
          writer = new MapWriter(staging, grid, index);
          if (job.atlas) {
            const img = readVolume3d(job.atlas.path, '--atlas');
            assertSameGrid(gridVol, img, '--atlas and the group maps');
            const names = job.atlas.labelsPath
              ? parseAtlasLabels(readFileSync(job.atlas.labelsPath, 'utf8'), job.atlas.labelsPath)
              : new Map<number, string>();
            atlas = { values: img.data, names };
          }
        }
        vols.forEach((v, i) =>
          assertSameGrid(gridVol!, v, `z maps of sub-${parts[0]!.label} and sub-${parts[i]!.label}`),
        );
        const n = gridSize(grid!);
        // Voxels with a value in every participant; the test runs on those only.
        const at: number[] = [];
        for (let g = 0; g < n; g++) if (vols.every((v) => Number.isFinite(v.data[g]!))) at.push(g);
        const voxels = Int32Array.from(at);
        const maps = vols.map((v) => Float32Array.from(voxels, (g) => v.data[g]!));
        const options: SignFlipOptions = {
          nPermutations,
          seed,
          alpha,
          ...(pseudo
            ? {
                varianceSmoothing: {
                  fwhmMm: varianceSmoothingMm,
                  grid: { dims: grid!.dims, voxelSizeMm: affineVoxelSizes(grid!.affine), voxels },
                },
              }
            : {}),
        };
        const res = pool
          ? pool.run('sign-flip', { maps, options })
          : Promise.resolve().then(() => signFlipTest(maps, options));
        res.catch(() => undefined); // awaited in order below
        return { layer, method, voxels, res };
      };
      const ahead: ReturnType<typeof prepare>[] = [];
      let next = 0;
      try {
        while (ahead.length < 3 * threads && next < tests.length) ahead.push(prepare(next++));
        for (let ti = 0; ti < tests.length; ti++) {
          bar.update(ti);
          const { layer, method, voxels } = ahead[0]!;
          const res = await ahead.shift()!.res;
          if (next < tests.length) ahead.push(prepare(next++));
          const n = gridSize(grid!);
          meta ??= {
            nPatterns: res.nPatterns,
            exhaustive: res.exhaustive,
            minAttainableP: res.minAttainableP,
            ...(res.note ? { note: res.note } : {}),
          };
          const meanZ = toGrid(res.mean, voxels, n);
          const t = toGrid(res.t, voxels, n);
          const p = toGrid(res.p, voxels, n);
          const fweP = toGrid(res.fweP, voxels, n);
          const thresholdedT = thresholdMap(t, fweP, alpha);
          const base = [...entities, ['desc', desc.get(layer)], ['rsa', METHOD_LABELS[method]]] as const;
          const w = writer!;
          const entry = { layer, method };
          w.write(bidsFileName([...base, ['stat', 'meanz']], 'statmap', '.nii.gz'), meanZ, {
            ...entry,
            stat: 'mean-z',
            description: 'mean Fisher z over participants (effect map)',
          });
          // The pseudo-t has no t distribution: intent 'none' for it.
          const tIntent = pseudo ? {} : { intent: 'ttest' as const, intentParams: [parts.length - 1] };
          w.write(
            bidsFileName([...base, ['stat', statLabel]], 'statmap', '.nii.gz'),
            t,
            { ...entry, stat: statName, description: statWords },
            tIntent,
          );
          w.write(
            bidsFileName([...base, ['stat', 'p']], 'statmap', '.nii.gz'),
            p,
            { ...entry, stat: 'p', description: 'two-sided sign-flip permutation p, uncorrected' },
            { intent: 'pvalue' },
          );
          w.write(
            bidsFileName([...base, ['stat', 'fwep']], 'statmap', '.nii.gz'),
            fweP,
            {
              ...entry,
              stat: 'fwe-p',
              description: 'two-sided p, family-wise error corrected by the maximum statistic',
            },
            { intent: 'pvalue' },
          );
          w.write(
            bidsFileName([...base, ['stat', statLabel], ['thresh', 'fwe']], 'statmap', '.nii.gz'),
            thresholdedT,
            { ...entry, stat: `thresholded-${statName}`, description: `${statName} where FWE p < ${alpha}, else 0` },
            tIntent,
          );
          const clusters = clusterTable(thresholdedT, grid!.dims, grid!.affine, {
            connectivity,
            ...(atlas ? { atlas } : {}),
          });
          let nSignificant = 0;
          let maxAbsT = Number.NaN;
          let minFweP = Number.NaN;
          for (let k = 0; k < voxels.length; k++) {
            if (res.fweP[k]! < alpha) nSignificant++;
            const a = Math.abs(res.t[k]!);
            if (!(a <= maxAbsT)) maxAbsT = Number.isNaN(a) ? maxAbsT : a;
            if (!(res.fweP[k]! >= minFweP)) minFweP = Number.isNaN(res.fweP[k]!) ? minFweP : res.fweP[k]!;
          }
          results.push({
            layer,
            method,
            nVoxels: voxels.length,
            nSignificant,
            maxAbsT,
            minFweP,
            clusters,
            nClusters: clusters.length,
            meanZ,
            thresholdedT,
          });
        }
      } finally {
        await pool?.close();
      }
      bar.update(tests.length);
      bar.stop();
      const w = writer!;
      const g = grid!;
      const n = gridSize(g);

      // Winner-take-all over significant voxels (and, descriptively, over the effect maps).
      const wta: {
        method: ModelMethod;
        winner: Int16Array;
        counts: number[];
        effectWinner: Int16Array;
        effectCounts: number[];
      }[] = [];
      const dice: { method: ModelMethod; layers: string[]; matrix: Float64Array }[] = [];
      for (const method of methods) {
        const rs = layers.map((l) => results.find((r) => r.layer === l && r.method === method)!);
        // Eligible: voxels where the layer's positive effect is significant.
        const positive = rs.map((r) => Uint8Array.from(r.thresholdedT, (v) => (v > 0 ? 1 : 0)));
        const { winner } = winnerTakeAll(
          rs.map((r) => r.meanZ),
          positive,
        );
        const effect = winnerTakeAll(rs.map((r) => r.meanZ)).winner;
        const count = (win: Int16Array) => {
          const c = layers.map(() => 0);
          for (const x of win) if (x > 0) c[x - 1]!++;
          return c;
        };
        const base = [...entities, ['desc', 'wta'], ['rsa', METHOD_LABELS[method]]] as const;
        w.write(
          bidsFileName([...base, ['thresh', 'fwe']], 'dseg', '.nii.gz'),
          winner,
          {
            method,
            stat: 'wta',
            description: `winner-take-all over voxels where a layer's positive effect has FWE p < ${alpha}: 1-based layer index of the highest mean z (0: none)`,
          },
          { datatype: 'int16', intent: 'label' },
        );
        w.write(
          bidsFileName(base, 'dseg', '.nii.gz'),
          effect,
          {
            method,
            stat: 'wta-effect',
            description: 'winner-take-all over the effect maps (mean z), no threshold: descriptive',
          },
          { datatype: 'int16', intent: 'label' },
        );
        const counts = count(winner);
        const effectCounts = count(effect);
        const tsv = bidsFileName(base, 'dseg', '.tsv');
        writeFileAtomic(
          join(staging, tsv),
          `index\tname\tvoxels_significant\tvoxels_effect\n${layers.map((l, i) => `${i + 1}\t${l}\t${counts[i]}\t${effectCounts[i]}`).join('\n')}\n`,
        );
        index.add({
          path: tsv,
          method,
          stat: 'wta-labels',
          description: 'layer of each winner-take-all index and its voxel counts',
        });
        wta.push({ method, winner, counts, effectWinner: effect, effectCounts });
        const matrix = diceMatrix(rs.map((r) => r.thresholdedT));
        dice.push({ method, layers, matrix });
        const dtsv = bidsFileName([...entities, ['desc', 'overlap'], ['rsa', METHOD_LABELS[method]]], 'dice', '.tsv');
        const L = layers.length;
        const cell = (v: number) => (Number.isNaN(v) ? 'n/a' : v.toFixed(4));
        writeFileAtomic(
          join(staging, dtsv),
          `layer\t${layers.join('\t')}\n${layers.map((l, a) => `${l}\t${Array.from({ length: L }, (_, b) => cell(matrix[a * L + b]!)).join('\t')}`).join('\n')}\n`,
        );
        index.add({
          path: dtsv,
          method,
          stat: 'dice',
          description: `Dice overlap of the thresholded (FWE p < ${alpha}) layer maps; n/a when both are empty`,
        });
      }
      const clusterRows = results.flatMap((r) =>
        r.clusters.map((c) =>
          [
            r.layer,
            r.method,
            c.cluster,
            c.sizeVoxels,
            c.volumeMm3.toFixed(1),
            c.peakValue.toFixed(4),
            ...c.peakMm.map((x) => x.toFixed(1)),
            ...c.peakVoxel,
            ...(atlas ? [c.peakLabel ?? ''] : []),
          ].join('\t'),
        ),
      );
      const ctsv = bidsFileName([...entities, ['desc', 'clusters']], 'table', '.tsv');
      writeFileAtomic(
        join(staging, ctsv),
        `${['layer', 'method', 'cluster', 'size_voxels', 'volume_mm3', 'peak_t', 'peak_x_mm', 'peak_y_mm', 'peak_z_mm', 'peak_i', 'peak_j', 'peak_k', ...(atlas ? ['peak_label'] : [])].join('\t')}\n${clusterRows.map((r) => `${r}\n`).join('')}`,
      );
      index.add({
        path: ctsv,
        stat: 'clusters',
        description: `clusters of the thresholded t maps (${connectivity}-connectivity), largest first, with peaks`,
      });

      // Report background: --template, else the mean of the participants' mean EPIs.
      let background: Float32Array;
      let backgroundName: string;
      if (job.template) {
        const tpl = readVolume3d(job.template, '--template');
        assertSameGrid(gridVol!, tpl, '--template and the group maps');
        background = Float32Array.from(tpl.data);
        backgroundName = job.template;
      } else {
        background = new Float32Array(n);
        let count = 0;
        for (const p of parts) {
          const f = p.index.files.find((x) => x.stat === 'mean-epi');
          if (!f) continue;
          const v = readNifti(join(p.dir, f.path));
          assertSameGrid(gridVol!, v, `mean EPI of sub-${p.label}`);
          for (let i = 0; i < n; i++) background[i] = background[i]! + v.data[i]!;
          count++;
        }
        if (count > 0) for (let i = 0; i < n; i++) background[i] = background[i]! / count;
        backgroundName = `the mean of ${count} participants' mean EPIs`;
        if (count > 0)
          w.write(bidsFileName([...entities, ['desc', 'mean']], 'bold', '.nii.gz'), background, {
            stat: 'mean-epi',
            description: backgroundName,
          });
      }
      await w.flush();
      const m = meta!;
      writeProvenance(
        staging,
        makeProvenance(
          'group',
          { ...job.settingsRecord, varianceSmoothingMmResolved: varianceSmoothingMm, statistic: statName },
          {
            outputDir: job.outputDir,
            participants: parts.map((p) => p.label),
            stimulusSetSha256: first.stimulusSha ?? null,
            ...(job.atlas ? { atlas: job.atlas } : {}),
          },
          m.note ? [m.note] : [],
        ),
      );
      index.add({ path: 'analysis.json', stat: 'provenance', description: 'resolved settings, inputs and versions' });
      const summary: GroupSummary = {
        dir: outDir,
        participants: parts.map((p) => p.label),
        tests: results,
        nPatterns: m.nPatterns,
        exhaustive: m.exhaustive,
        minAttainableP: m.minAttainableP,
        alpha,
        statistic: statName,
        varianceSmoothingMm,
        ...(m.note ? { note: m.note } : {}),
        seconds: 0,
      };
      // A simulated dataset (orthostim simulate) carries its ground truth: score the thresholded
      // maps against the planted regions, so the report shows what was recovered.
      let recovery: { method: ModelMethod; table: RecoveryTable }[] | undefined;
      if (existsSync(join(job.bidsDir, 'derivatives', 'truth', 'index.json'))) {
        index.write(staging);
        recovery = methods.map((method) => ({
          method,
          table: readRecovery({
            analysisDir: job.outputDir,
            groupDir: staging,
            bidsDir: job.bidsDir,
            method,
            selection: 'fwe',
          }),
        }));
      }
      await writeGroupReport(staging, {
        summary,
        grid: g,
        background,
        backgroundName,
        layers,
        methods,
        wta,
        dice,
        connectivity,
        atlas: !!atlas,
        ...(recovery ? { recovery } : {}),
      });
      index.add({ path: 'report.html', stat: 'report', description: 'group report' });
      index.write(staging);
      summary.seconds = (performance.now() - t0) / 1000;
      return summary;
    },
    { overwrite: job.overwrite ?? false },
  );
}
