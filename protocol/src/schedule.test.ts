import { describe, expect, it } from 'vitest';
import {
  buildRunSchedule,
  nullTrialCount,
  orderWithoutAdjacentRepeats,
  runSeed,
  type ScheduleConfig,
} from './schedule';
import { sequenceImagesOfRun } from './schedule-sequence';
import { defaultSessionConfig } from './session-config';
import { createRng } from '@orthostim/rdm';

const ids = ['a', 'b', 'c', 'd', 'e'];
const config: ScheduleConfig = defaultSessionConfig();

describe('buildRunSchedule', () => {
  it('holds every constraint over 10,000 seeds', () => {
    // Plain checks collected into one list (200k expect() calls would dominate the run time).
    const problems: string[] = [];
    const firstImage = new Map<string, number>();
    for (let seed = 0; seed < 10_000; seed++) {
      const s = buildRunSchedule(ids, config, seed);
      const counts = new Map<string, number>();
      let prev: string | null = null;
      let nulls = 0;
      s.trials.forEach((t, i) => {
        // Onsets are whole TRs on the grid leadIn + i * SOA, computed, not accumulated.
        if (t.index !== i || t.onsetVolume !== config.leadInVolumes + i * config.soaVolumes)
          problems.push(`seed ${seed}: trial ${i} index/volume`);
        if (Math.abs(t.onsetS - t.onsetVolume * config.repetitionTimeS) > 1e-9)
          problems.push(`seed ${seed}: trial ${i} onset ${t.onsetS}`);
        if (t.imageId === null) {
          nulls++;
          if (t.imageIndex !== null) problems.push(`seed ${seed}: null trial ${i} has an image index`);
          return;
        }
        if (ids[t.imageIndex!] !== t.imageId) problems.push(`seed ${seed}: trial ${i} id/index mismatch`);
        if (t.imageId === prev) problems.push(`seed ${seed}: ${t.imageId} twice in a row at trial ${i}`);
        prev = t.imageId;
        counts.set(t.imageId, (counts.get(t.imageId) ?? 0) + 1);
      });
      for (const id of ids)
        if (counts.get(id) !== config.repetitions) problems.push(`seed ${seed}: ${id} shown ${counts.get(id)} times`);
      // 20 image trials, 25% null: 20 * 0.25 / 0.75 = 6.67 -> 7.
      if (nulls !== 7) problems.push(`seed ${seed}: ${nulls} null trials`);
      const first = s.trials.find((t) => t.imageId !== null)!.imageId!;
      firstImage.set(first, (firstImage.get(first) ?? 0) + 1);
      // Fixation changes inside the trial span, in order, at least minIntervalS apart.
      const f = s.fixationChanges;
      for (let k = 1; k < f.length; k++)
        if (f[k]!.onsetS - f[k - 1]!.onsetS < config.fixation.minIntervalS - 1e-6)
          problems.push(`seed ${seed}: changes ${k - 1},${k} too close`);
      if (f.length && f[0]!.onsetS < s.trials[0]!.onsetS) problems.push(`seed ${seed}: change before the first trial`);
      if (f.length === 0) problems.push(`seed ${seed}: no fixation changes`);
    }
    expect(problems.slice(0, 5)).toEqual([]);
    // Randomization reaches every image as the first one, roughly equally often.
    for (const id of ids) expect(firstImage.get(id)! / 10_000).toBeGreaterThan(0.15);
  });

  it('is reproducible from the seed and differs between seeds', () => {
    expect(buildRunSchedule(ids, config, 42)).toEqual(buildRunSchedule(ids, config, 42));
    expect(buildRunSchedule(ids, config, 42).trials.map((t) => t.imageId)).not.toEqual(
      buildRunSchedule(ids, config, 43).trials.map((t) => t.imageId),
    );
  });

  it('computes the run length from lead-in, trials and lead-out', () => {
    const c = {
      ...config,
      repetitionTimeS: 1.5,
      soaVolumes: 3,
      leadInVolumes: 2,
      leadOutVolumes: 4,
      nullTrialFraction: 0,
      repetitions: 2,
    };
    const s = buildRunSchedule(['x', 'y', 'z'], c, 7);
    // 6 trials * 3 volumes + 2 + 4 = 24 volumes * 1.5 s.
    expect(s.trials).toHaveLength(6);
    expect(s.totalVolumes).toBe(24);
    expect(s.durationS).toBe(36);
    expect(s.trials[5]!.onsetS).toBe(25.5);
    expect(s.soaS).toBe(4.5);
  });

  it('refuses a single image and a bad seed with a message naming the value', () => {
    expect(() => buildRunSchedule(['only'], config, 1)).toThrow(/at least 2 images to avoid repeats; got 1/);
    expect(() => buildRunSchedule(ids, config, -1)).toThrow(/seed .* got -1/);
  });

  it('derives distinct per-run seeds', () => {
    expect(new Set([1, 2, 3, 4].map((r) => runSeed(99, r))).size).toBe(4);
  });
});

describe('buildRunSchedule with imageTrialsPerRun (condition-rich)', () => {
  const images = Array.from({ length: 7 }, (_, i) => `img${i}`);
  const rich: ScheduleConfig = { ...config, imageTrialsPerRun: 5 };
  const RUNS = 6;

  it("balances images over a participant's runs and never repeats one, over 10,000 seeds", () => {
    const problems: string[] = [];
    const firstImage = new Map<string, number>();
    for (let seed = 0; seed < 10_000; seed++) {
      const counts = new Map(images.map((id) => [id, 0]));
      let prev: string | null = null;
      for (let r = 0; r < RUNS; r++) {
        const s = buildRunSchedule(images, rich, runSeed(seed, r + 1), { sequenceSeed: seed, runIndex: r });
        const shown = s.trials.filter((t) => t.imageId !== null);
        if (shown.length !== 5) problems.push(`seed ${seed} run ${r}: ${shown.length} image trials`);
        // 5 image trials, 25% null: 5 * 0.25 / 0.75 = 1.67 -> 2.
        if (s.trials.length - shown.length !== 2) problems.push(`seed ${seed} run ${r}: null trials`);
        if (s.imageSequence?.runIndex !== r || s.imageSequence.sequenceSeed !== seed)
          problems.push(`seed ${seed} run ${r}: imageSequence not recorded`);
        for (const t of shown) {
          // Runs are contiguous: the first image of a run may not repeat the last of the one before.
          if (t.imageId === prev) problems.push(`seed ${seed} run ${r}: ${t.imageId} twice in a row`);
          if (images[t.imageIndex!] !== t.imageId) problems.push(`seed ${seed}: id/index mismatch`);
          prev = t.imageId;
          counts.set(t.imageId!, counts.get(t.imageId!)! + 1);
        }
        // After every run, not only the last: every image equally often, plus or minus one.
        const c = [...counts.values()];
        if (Math.max(...c) - Math.min(...c) > 1) problems.push(`seed ${seed} after run ${r}: counts ${c.join(',')}`);
      }
      // 6 runs x 5 = 30 trials of 7 images: 2 shows each, 2 images a third time.
      const c = [...counts.values()].sort();
      if (c.join(',') !== '4,4,4,4,4,5,5') problems.push(`seed ${seed}: final counts ${c.join(',')}`);
      const first = buildRunSchedule(images, rich, 1, { sequenceSeed: seed, runIndex: 0 }).trials.find(
        (t) => t.imageId !== null,
      )!.imageId!;
      firstImage.set(first, (firstImage.get(first) ?? 0) + 1);
    }
    expect(problems.slice(0, 5)).toEqual([]);
    // The sequence is random: each of the 7 images opens it about 1/7 of the time.
    for (const id of images) expect(firstImage.get(id)! / 10_000).toBeGreaterThan(0.1);
  });

  it('cuts run r from the sequence whatever else was scheduled, and differs between participants', () => {
    const direct = sequenceImagesOfRun(7, 5, { sequenceSeed: 11, runIndex: 3 });
    const whole = [0, 1, 2, 3].flatMap((r) => sequenceImagesOfRun(7, 5, { sequenceSeed: 11, runIndex: r }));
    expect(whole.slice(15)).toEqual(direct);
    // Every cycle of 7 consecutive positions starting at a multiple of 7 holds each image once.
    expect([...whole.slice(0, 7)].sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect([...whole.slice(7, 14)].sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(sequenceImagesOfRun(7, 5, { sequenceSeed: 12, runIndex: 3 })).not.toEqual(direct);
  });

  it('lets imageTrialsPerRun exceed the number of images (several cycles per run)', () => {
    const s = buildRunSchedule(['x', 'y', 'z'], { ...rich, imageTrialsPerRun: 10, nullTrialFraction: 0 }, 3, {
      sequenceSeed: 4,
      runIndex: 0,
    });
    const ids = s.trials.map((t) => t.imageId);
    expect(ids).toHaveLength(10);
    expect(['x', 'y', 'z'].map((id) => ids.filter((x) => x === id).length).sort()).toEqual([3, 3, 4]);
    for (let i = 1; i < ids.length; i++) expect(ids[i]).not.toBe(ids[i - 1]);
  });

  it('needs the sequence plan, and ignores repetitions', () => {
    expect(() => buildRunSchedule(images, rich, 1)).toThrow(/imageTrialsPerRun needs the participant's sequence seed/);
    const a = buildRunSchedule(images, { ...rich, repetitions: 1 }, 1, { sequenceSeed: 2, runIndex: 0 });
    const b = buildRunSchedule(images, { ...rich, repetitions: 9 }, 1, { sequenceSeed: 2, runIndex: 0 });
    expect(a).toEqual(b);
  });
});

describe('orderWithoutAdjacentRepeats', () => {
  it('handles the tightest feasible case (one item holds half rounded up)', () => {
    for (let seed = 0; seed < 200; seed++) {
      const order = orderWithoutAdjacentRepeats([3, 1, 1], createRng(seed));
      expect(order).toEqual([0, expect.any(Number), 0, expect.any(Number), 0]);
    }
  });
  it('refuses an impossible multiset', () => {
    expect(() => orderWithoutAdjacentRepeats([4, 1, 1], createRng(1))).toThrow(/cannot avoid adjacent repeats/);
  });
});

describe('nullTrialCount', () => {
  it('makes null trials the given fraction of all trials', () => {
    expect(nullTrialCount(64, 0.25)).toBe(21); // 64 / 85 = 0.753
    expect(nullTrialCount(60, 0.25)).toBe(20); // exactly 25% of 80
    expect(nullTrialCount(10, 0)).toBe(0);
  });
});
