/**
 * Voxel-to-world affines (4 x 4, row-major `number[16]`) and the NIfTI geometry nibabel derives
 * from them: quaternion <-> rotation, the pixdim-only fallback affine, and axis codes such as
 * "RAS" or "LAS" (`aff2axcodes`). Pure math, no I/O.
 */
export type Affine = number[];

/** World coordinates (mm) of voxel (i, j, k). */
export function applyAffine(a: Affine, i: number, j: number, k: number): [number, number, number] {
  return [
    a[0]! * i + a[1]! * j + a[2]! * k + a[3]!,
    a[4]! * i + a[5]! * j + a[6]! * k + a[7]!,
    a[8]! * i + a[9]! * j + a[10]! * k + a[11]!,
  ];
}

/** Column norms of the 3 x 3 part: the voxel sizes along i, j, k in world units. */
export function affineVoxelSizes(a: Affine): [number, number, number] {
  const s = (c: number) => Math.hypot(a[c]!, a[4 + c]!, a[8 + c]!);
  return [s(0), s(1), s(2)];
}

type M3 = number[]; // row-major 3 x 3

function det3(m: M3): number {
  return (
    m[0]! * (m[4]! * m[8]! - m[5]! * m[7]!) -
    m[1]! * (m[3]! * m[8]! - m[5]! * m[6]!) +
    m[2]! * (m[3]! * m[7]! - m[4]! * m[6]!)
  );
}

function inverseTranspose3(m: M3): M3 | null {
  const d = det3(m);
  if (!Number.isFinite(d) || Math.abs(d) < 1e-300) return null;
  // cofactor matrix / det == inverse transposed
  return [
    (m[4]! * m[8]! - m[5]! * m[7]!) / d,
    -(m[3]! * m[8]! - m[5]! * m[6]!) / d,
    (m[3]! * m[7]! - m[4]! * m[6]!) / d,
    -(m[1]! * m[8]! - m[2]! * m[7]!) / d,
    (m[0]! * m[8]! - m[2]! * m[6]!) / d,
    -(m[0]! * m[7]! - m[1]! * m[6]!) / d,
    (m[1]! * m[5]! - m[2]! * m[4]!) / d,
    -(m[0]! * m[5]! - m[2]! * m[3]!) / d,
    (m[0]! * m[4]! - m[1]! * m[3]!) / d,
  ];
}

/**
 * The orthogonal factor of the polar decomposition (the closest rotation/reflection to `m`), as
 * nibabel computes with an SVD (P Qs). Newton's iteration X <- (X + X^-T) / 2 converges to the same
 * matrix for a non-singular `m`; a singular one is returned unchanged.
 */
export function polarOrthogonal3(m: M3): M3 {
  let x = m.slice();
  for (let it = 0; it < 100; it++) {
    const inv = inverseTranspose3(x);
    if (!inv) return m.slice();
    let change = 0;
    const next = x.map((v, i) => {
      const n = 0.5 * (v + inv[i]!);
      change = Math.max(change, Math.abs(n - v));
      return n;
    });
    x = next;
    if (change < 1e-15) break;
  }
  return x;
}

/** Rotation matrix of the unit quaternion (a, b, c, d), NIfTI-1 convention (nifti1.h). */
export function quaternionToRotation(a: number, b: number, c: number, d: number): M3 {
  return [
    a * a + b * b - c * c - d * d,
    2 * (b * c - a * d),
    2 * (b * d + a * c),
    2 * (b * c + a * d),
    a * a + c * c - b * b - d * d,
    2 * (c * d - a * b),
    2 * (b * d - a * c),
    2 * (c * d + a * b),
    a * a + d * d - c * c - b * b,
  ];
}

/** Unit quaternion (a >= 0) of a proper rotation matrix (Shepperd's method). */
export function rotationToQuaternion(r: M3): [number, number, number, number] {
  const [r11, r12, r13, r21, r22, r23, r31, r32, r33] = r as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const trace = r11 + r22 + r33;
  let a: number, b: number, c: number, d: number;
  if (trace > 0) {
    const s = 2 * Math.sqrt(1 + trace);
    a = 0.25 * s;
    b = (r32 - r23) / s;
    c = (r13 - r31) / s;
    d = (r21 - r12) / s;
  } else if (r11 > r22 && r11 > r33) {
    const s = 2 * Math.sqrt(1 + r11 - r22 - r33);
    a = (r32 - r23) / s;
    b = 0.25 * s;
    c = (r12 + r21) / s;
    d = (r13 + r31) / s;
  } else if (r22 > r33) {
    const s = 2 * Math.sqrt(1 + r22 - r11 - r33);
    a = (r13 - r31) / s;
    b = (r12 + r21) / s;
    c = 0.25 * s;
    d = (r23 + r32) / s;
  } else {
    const s = 2 * Math.sqrt(1 + r33 - r11 - r22);
    a = (r21 - r12) / s;
    b = (r13 + r31) / s;
    c = (r23 + r32) / s;
    d = 0.25 * s;
  }
  const n = Math.hypot(a, b, c, d);
  const sign = a < 0 ? -1 : 1; // NIfTI stores b, c, d and assumes a >= 0
  return [(sign * a) / n, (sign * b) / n, (sign * c) / n, (sign * d) / n];
}

export interface QformParams {
  quaternB: number;
  quaternC: number;
  quaternD: number;
  qoffsetX: number;
  qoffsetY: number;
  qoffsetZ: number;
  /** pixdim[0]: +1 or -1 (handedness of k). */
  qfac: number;
  /** pixdim[1..3]. */
  zooms: [number, number, number];
}

/** The qform affine, as nibabel's `get_qform` (b, c, d stored; a = sqrt(1 - b² - c² - d²), 0 if slightly negative). */
export function qformToAffine(q: QformParams): Affine {
  const w2 = 1 - (q.quaternB ** 2 + q.quaternC ** 2 + q.quaternD ** 2);
  const a = w2 > 0 ? Math.sqrt(w2) : 0;
  const r = quaternionToRotation(a, q.quaternB, q.quaternC, q.quaternD);
  const qfac = q.qfac === -1 ? -1 : 1;
  const z = [Math.abs(q.zooms[0]), Math.abs(q.zooms[1]), Math.abs(q.zooms[2]) * qfac];
  return [
    r[0]! * z[0]!,
    r[1]! * z[1]!,
    r[2]! * z[2]!,
    q.qoffsetX,
    r[3]! * z[0]!,
    r[4]! * z[1]!,
    r[5]! * z[2]!,
    q.qoffsetY,
    r[6]! * z[0]!,
    r[7]! * z[1]!,
    r[8]! * z[2]!,
    q.qoffsetZ,
    0,
    0,
    0,
    1,
  ];
}

/**
 * qform parameters that best represent an affine, as nibabel's `set_qform`: zooms are the column
 * norms, qfac makes the rotation proper, shears are dropped (closest orthogonal matrix).
 */
export function affineToQform(aff: Affine): QformParams {
  const zooms = affineVoxelSizes(aff);
  const r: M3 = [0, 1, 2].flatMap((row) => [0, 1, 2].map((col) => aff[row * 4 + col]! / (zooms[col] || 1)));
  let qfac = 1;
  if (det3(r) < 0) {
    qfac = -1;
    for (let row = 0; row < 3; row++) r[row * 3 + 2] = -r[row * 3 + 2]!;
  }
  const [, b, c, d] = rotationToQuaternion(polarOrthogonal3(r));
  return {
    quaternB: b,
    quaternC: c,
    quaternD: d,
    qoffsetX: aff[3]!,
    qoffsetY: aff[7]!,
    qoffsetZ: aff[11]!,
    qfac,
    zooms,
  };
}

/**
 * nibabel's fallback when neither sform nor qform is set (`get_base_affine`, i.e.
 * `shape_zoom_affine(shape, zooms, x_flip=True)`): diagonal pixdim with x flipped, origin at the
 * centre of the grid. (nifti-reader-js uses diag(pixdim) with origin 0 instead.)
 */
export function baseAffine(shape: readonly number[], zooms: readonly number[]): Affine {
  const sh = [0, 1, 2].map((i) => shape[i] ?? 1);
  const z = [0, 1, 2].map((i) => zooms[i] ?? 1);
  z[0] = -z[0]!;
  return [
    z[0]!,
    0,
    0,
    (-(sh[0]! - 1) / 2) * z[0]!,
    0,
    z[1]!,
    0,
    (-(sh[1]! - 1) / 2) * z[1]!,
    0,
    0,
    z[2]!,
    (-(sh[2]! - 1) / 2) * z[2]!,
    0,
    0,
    0,
    1,
  ];
}

const AXIS_LABELS: readonly [string, string][] = [
  ['L', 'R'],
  ['P', 'A'],
  ['I', 'S'],
];

/**
 * Axis codes of an affine, as nibabel's `aff2axcodes(aff)`: for each voxel axis, the world
 * direction it points to most (after removing zooms and shears), e.g. "RAS" or "LAS". Ties are
 * broken like nibabel's `io_orientation`: axes are chosen in order and a used world axis is removed.
 */
export function affineAxisCodes(aff: Affine): string {
  const zooms = affineVoxelSizes(aff).map((z) => (z === 0 ? 1 : z));
  const rs: M3 = [0, 1, 2].flatMap((row) => [0, 1, 2].map((col) => aff[row * 4 + col]! / zooms[col]!));
  const r = polarOrthogonal3(rs);
  let codes = '';
  for (let col = 0; col < 3; col++) {
    const column = [r[col]!, r[3 + col]!, r[6 + col]!];
    if (column.every((v) => Math.abs(v) < 1e-12)) {
      codes += '?';
      continue;
    }
    let out = 0;
    for (let row = 1; row < 3; row++) if (Math.abs(column[row]!) > Math.abs(column[out]!)) out = row;
    codes += AXIS_LABELS[out]![column[out]! < 0 ? 0 : 1];
    for (let c = 0; c < 3; c++) r[out * 3 + c] = 0;
  }
  return codes;
}
