// Weight-only int4 with groups along K, in the plain layout of compiler/ir/quantized.ts.
//
// Two ways to choose a group's (scale, zero):
//   'rtn'    round-to-nearest from the group's range (symmetric: s = amax/7; asymmetric:
//            [min(x,0), max(x,0)] mapped onto 0..15).
//   'search' a grid over clipping ratios, each candidate followed by a least-squares refit of
//            the scale (and zero) for the levels it picked; the candidate whose *stored* scale
//            (after f16 or f32 rounding) gives the smallest squared error of the dequantized
//            group wins. Optional per-column importance weights turn this into weighted error.
//
// Every function here treats rows independently, so a matrix can be split into row chunks and
// quantized in any order (workers) with byte-identical results.

import { roundToF16 } from '../ir/half.js';
import { dequantize, groupsPerRow, int4RowBytes } from '../ir/quantized.js';
import type { QuantizedMatrix, QuantMethod, ScaleDtype } from '../ir/quantized.js';

export type Int4Method = 'rtn' | 'search';

export interface Int4Options {
  /** Group length along K (32, 64 or 128 in practice; any even length works). Default 32. */
  readonly groupSize?: number;
  /** Symmetric (zero fixed at 8) or asymmetric (a 4-bit zero per group). Default false. */
  readonly symmetric?: boolean;
  /** Default 'f16'. */
  readonly scaleDtype?: ScaleDtype;
  /** Default 'search'. */
  readonly method?: Int4Method;
  /** Number of clipping ratios tried by the search (default 10; 20 gained < 0.1% MSE). */
  readonly searchSteps?: number;
  /**
   * Asymmetric search also tries shrinking only the low or only the high end of the range
   * (default true: ~0.5% lower MSE on stories260K for 2.7x the search time).
   */
  readonly oneSided?: boolean;
  /**
   * 'int' (default): the layout of compiler/ir/quantized.ts, a zero in 0..15 per group.
   * 'float': a real zero in [0, 15] (stored rounded like the scales), value = (q − zero)·scale,
   * so the grid need not contain 0. NOT the current IR layout: a proposal, returned as a
   * FloatZeroMatrix (see there); asymmetric only. On stories260K it cut the search's
   * perplexity increase from +8.9% to +5.3%.
   */
  readonly zeroPoint?: 'int' | 'float';
  /** Least-squares refits per candidate, alternating with re-rounding (default 1). */
  readonly refineIters?: number;
  /** Smallest clipping ratio tried (default 0.5). */
  readonly minRatio?: number;
  /**
   * Optional importance per input column (length K, >= 0), e.g. mean(x_k^2) from calibration:
   * the search then minimizes sum_k w_k (x - x̂)^2 instead of plain squared error.
   */
  readonly colWeights?: Float32Array | Float64Array | null;
}

/** Fully resolved int4 settings (what workers receive). */
export interface Int4Config {
  readonly groupSize: number;
  readonly symmetric: boolean;
  readonly scaleDtype: ScaleDtype;
  readonly method: Int4Method;
  readonly searchSteps: number;
  readonly minRatio: number;
  readonly oneSided: boolean;
  readonly refineIters: number;
  readonly zeroPoint: 'int' | 'float';
}

export function resolveInt4(opts: Int4Options = {}): Int4Config {
  const cfg: Int4Config = {
    groupSize: opts.groupSize ?? 32,
    symmetric: opts.symmetric ?? false,
    scaleDtype: opts.scaleDtype ?? 'f16',
    method: opts.method ?? 'search',
    searchSteps: opts.searchSteps ?? 10,
    minRatio: opts.minRatio ?? 0.5,
    oneSided: opts.oneSided ?? true,
    refineIters: opts.refineIters ?? 1,
    zeroPoint: opts.zeroPoint ?? 'int',
  };
  if (!Number.isInteger(cfg.groupSize) || cfg.groupSize < 2 || cfg.groupSize % 2 !== 0) {
    throw new Error(`int4 groupSize must be an even integer >= 2, got ${cfg.groupSize}`);
  }
  if (cfg.zeroPoint === 'float' && cfg.symmetric) throw new Error('int4: a float zero point needs symmetric: false');
  if (!(cfg.searchSteps >= 1) || !(cfg.minRatio > 0 && cfg.minRatio <= 1)) {
    throw new Error(`int4 search needs searchSteps >= 1 and 0 < minRatio <= 1`);
  }
  return cfg;
}

const F16_MAX = 65504;

/** The scale as it will be stored: f16- or f32-rounded, so the search scores what ships. */
export function storedScale(s: number, dtype: ScaleDtype): number {
  if (dtype === 'f16') {
    const c = s > F16_MAX ? F16_MAX : s < -F16_MAX ? -F16_MAX : s;
    return fastRoundToF16(c);
  }
  return Math.fround(s);
}

const rf32 = new Float32Array(1);
const ru32 = new Uint32Array(rf32.buffer);

/**
 * roundToF16 (compiler/ir/half.ts) without the bits round trip, for the search's hot path:
 * for f16-normal magnitudes, round the f32 mantissa to 10 bits, nearest even (a carry into the
 * exponent is the correct result). Other magnitudes (subnormal, overflow) use roundToF16.
 * Same double -> f32 -> f16 rounding as half.ts, so the results are identical (tested).
 */
export function fastRoundToF16(v: number): number {
  rf32[0] = v;
  const bits = ru32[0];
  const e = (bits >>> 23) & 0xff;
  if (e < 113 || e > 141) return roundToF16(v);
  ru32[0] = ((bits + 0xfff + ((bits >>> 13) & 1)) & ~0x1fff) >>> 0;
  return rf32[0];
}

/** The one quantization rule used everywhere (search, packing, GPTQ): nearest level, clamped. */
export function quantLevel(v: number, inv: number, zero: number): number {
  // floor(t + 0.5) is Math.round's rule (halves go up) and much cheaper in V8's hot loops.
  // zero inside the floor: the nearest level also for a fractional zero point.
  const q = Math.floor(v * inv + zero + 0.5);
  return q < 0 ? 0 : q > 15 ? 15 : q;
}

/**
 * Chooses (scale, zero) for xs[0..len) with weights ws[0..len) (all 1 for plain MSE) and
 * returns them in out[0], out[1]; returns the weighted squared error of that choice.
 * Scratch-free and allocation-free: it runs once per group.
 */
export function chooseGroupParams(
  xs: Float64Array,
  ws: Float64Array,
  len: number,
  cfg: Int4Config,
  out: Float64Array,
): number {
  // Integer zeros need 0 on the grid, hence a range that contains 0; float zeros do not.
  let mn = cfg.zeroPoint === 'float' ? Infinity : 0;
  let mx = cfg.zeroPoint === 'float' ? -Infinity : 0;
  let amax = 0;
  let signedMax = 0;
  for (let i = 0; i < len; i++) {
    const v = xs[i];
    if (v < mn) mn = v;
    if (v > mx) mx = v;
    const a = Math.abs(v);
    if (!(a < Infinity)) throw new Error('int4: non-finite weight');
    if (a > amax) {
      amax = a;
      signedMax = v;
    }
  }
  const dtype = cfg.scaleDtype;
  const sym = cfg.symmetric;
  if (amax === 0) {
    out[0] = 0;
    out[1] = 8;
    return 0;
  }
  if (mx === mn) {
    // A constant group has no range of its own: use [min(x,0), max(x,0)].
    mn = Math.min(mn, 0);
    mx = Math.max(mx, 0);
  }
  // Candidates shrink the range toward 0. (Toward the middle for float zeros measured worse on
  // stories260K: +6.1% vs +5.3% perplexity for the search.)
  const mid = 0;
  // Round-to-nearest candidate first: the search only ever improves on it.
  let s0: number;
  let z0: number;
  if (sym) {
    s0 = storedScale(amax / 7, dtype);
    z0 = 8;
  } else {
    s0 = storedScale((mx - mn) / 15, dtype);
    z0 = s0 === 0 ? 8 : fitZero(-mn / s0, cfg);
  }
  setGroupSums(xs, ws, len);
  let bestErr = groupErr(xs, ws, len, s0, z0);
  let bestS = s0;
  let bestZ = z0;
  if (cfg.method === 'search') {
    const steps = cfg.searchSteps;
    const span = 1 - cfg.minRatio;
    for (let t = 0; t < steps; t++) {
      const r = steps === 1 ? 1 : 1 - (span * t) / (steps - 1);
      // Each family proposes (s, z); refine() scores it and its least-squares refit.
      if (sym) {
        // Positive scale with the max magnitude on +7, or Q4_0's orientation (max on the -8 level).
        for (let fam = 0; fam < 2; fam++) {
          const s = fam === 0 ? (r * amax) / 7 : (r * signedMax) / -8;
          const e = refineLoop(xs, ws, len, s, 8, true, cfg, scratchRes, cfg.refineIters);
          if (e < bestErr) {
            bestErr = e;
            bestS = scratchRes[0];
            bestZ = scratchRes[1];
          }
        }
      } else {
        // Shrink both ends, or only the low or the high end of the range.
        let lo0 = NaN;
        let hi0 = NaN;
        for (let fam = 0; fam < (cfg.oneSided ? 3 : 1); fam++) {
          const lo = fam === 2 ? mn : mid + (mn - mid) * r;
          const hi = fam === 1 ? mx : mid + (mx - mid) * r;
          // A family that proposes fam 0's range (r = 1, or an end at 0) would score the same
          // (s, z) again; an equal error never replaces the best, so skipping it changes nothing.
          if (fam === 0) {
            lo0 = lo;
            hi0 = hi;
          } else if (lo === lo0 && hi === hi0) continue;
          const s = (hi - lo) / 15;
          if (s <= 0) continue;
          const z = fitZero(-lo / s, cfg);
          const e = refineLoop(xs, ws, len, s, z, false, cfg, scratchRes, cfg.refineIters);
          if (e < bestErr) {
            bestErr = e;
            bestS = scratchRes[0];
            bestZ = scratchRes[1];
          }
        }
      }
    }
  }
  out[0] = bestS;
  out[1] = bestZ;
  return bestErr;
}

const scratchRes = new Float64Array(2);

/** The zero point as stored: an integer in 0..15, or (float mode) a real in [0, 15] rounded like the scales. */
function fitZero(z: number, cfg: Int4Config): number {
  const c = z < 0 ? 0 : z > 15 ? 15 : z;
  return cfg.zeroPoint === 'float' ? storedScale(c, cfg.scaleDtype) : Math.round(c);
}

// Per-group sums (set by setGroupSums) and per-candidate level sums (set by levelSums): the
// error of any (s, z) follows from them, so each candidate costs one pass of 3 accumulations:
//   Σw(x − (q−z)s)² = Σwx² − 2s(Σwxq − zΣwx) + s²(Σwq² − 2zΣwq + z²Σw).
let gSw = 0;
let gSwx = 0;
let gSwxx = 0;
let sQ = 0;
let sQQ = 0;
let sXQ = 0;
let wxBuf = new Float64Array(128);

/** All weights of the current group are 1 (plain MSE): levelSums skips the weight loads. */
let gUnit = false;

function setGroupSums(xs: Float64Array, ws: Float64Array, len: number): void {
  if (wxBuf.length < len) wxBuf = new Float64Array(len);
  let unit = true;
  for (let i = 0; i < len; i++) if (ws[i] !== 1) unit = false;
  gUnit = unit;
  let sw = 0;
  let swx = 0;
  let swxx = 0;
  for (let i = 0; i < len; i++) {
    const wx = ws[i] * xs[i];
    wxBuf[i] = wx;
    sw += ws[i];
    swx += wx;
    swxx += wx * xs[i];
  }
  gSw = sw;
  gSwx = swx;
  gSwxx = swxx;
}

function levelSums(xs: Float64Array, ws: Float64Array, len: number, inv: number, z: number): void {
  if (gUnit) {
    levelSumsUnit(xs, len, inv, z);
    return;
  }
  const wx = wxBuf;
  let q1 = 0;
  let q2 = 0;
  let xq = 0;
  for (let i = 0; i < len; i++) {
    let q = Math.floor(xs[i] * inv + z + 0.5);
    q = q < 0 ? 0 : q > 15 ? 15 : q;
    const wq = ws[i] * q;
    q1 += wq;
    q2 += wq * q;
    xq += wx[i] * q;
  }
  sQ = q1;
  sQQ = q2;
  sXQ = xq;
}

/** levelSums with every weight 1: w·q = q and w·x = x exactly, so the sums are bit-identical. */
function levelSumsUnit(xs: Float64Array, len: number, inv: number, z: number): void {
  let q1 = 0;
  let q2 = 0;
  let xq = 0;
  for (let i = 0; i < len; i++) {
    const x = xs[i];
    let q = Math.floor(x * inv + z + 0.5);
    q = q < 0 ? 0 : q > 15 ? 15 : q;
    q1 += q;
    q2 += q * q;
    xq += x * q;
  }
  sQ = q1;
  sQQ = q2;
  sXQ = xq;
}

function errFromSums(s: number, z: number): number {
  const e = gSwxx - 2 * s * (sXQ - z * gSwx) + s * s * (sQQ - 2 * z * sQ + z * z * gSw);
  return e > 0 ? e : 0;
}

/** Weighted squared error of the group dequantized with stored scale s and zero z. */
function groupErr(xs: Float64Array, ws: Float64Array, len: number, s: number, z: number): number {
  if (s === 0) return gSwxx;
  if (!Number.isFinite(s)) return Infinity;
  levelSums(xs, ws, len, 1 / s, z);
  return errFromSums(s, z);
}

/** refine() repeated from its own result while it keeps improving (at most `iters` times). */
function refineLoop(
  xs: Float64Array,
  ws: Float64Array,
  len: number,
  s: number,
  z: number,
  sym: boolean,
  cfg: Int4Config,
  out: Float64Array,
  iters: number,
): number {
  let e = refine(xs, ws, len, s, z, sym, cfg, out);
  for (let it = 1; it < iters; it++) {
    const ps = out[0];
    const pz = out[1];
    const e2 = refine(xs, ws, len, ps, pz, sym, cfg, out);
    if (!(e2 < e)) {
      out[0] = ps;
      out[1] = pz;
      break;
    }
    e = e2;
  }
  return e;
}

/**
 * Scores candidate (s, z) after rounding s to its stored dtype, then refits by least squares
 * for the levels the candidate picked (scale only when symmetric; scale and offset, then the
 * zero rounded to 0..15 and the scale refit, when asymmetric) and scores that too.
 * Writes the better (s, z) to out and returns its error.
 */
function refine(
  xs: Float64Array,
  ws: Float64Array,
  len: number,
  sRaw: number,
  z: number,
  sym: boolean,
  cfg: Int4Config,
  out: Float64Array,
): number {
  const dtype = cfg.scaleDtype;
  const s = storedScale(sRaw, dtype);
  if (s === 0 || !Number.isFinite(s)) return Infinity;
  levelSums(xs, ws, len, 1 / s, z);
  const e = errFromSums(s, z);
  const sw = gSw;
  const swx = gSwx;
  const swq = sQ;
  const swqq = sQQ;
  const swxq = sXQ;
  out[0] = s;
  out[1] = z;
  let z2 = z;
  if (!sym) {
    // x ≈ a*q + c, unconstrained; then z = round(-c/a) in 0..15.
    const det = sw * swqq - swq * swq;
    if (det > 0) {
      const a = (sw * swxq - swq * swx) / det;
      const c = (swx - a * swq) / sw;
      if (a !== 0 && Number.isFinite(a)) z2 = fitZero(-c / a, cfg);
    }
  }
  // Least-squares scale for fixed levels q and zero z2: s = Σw x (q-z2) / Σw (q-z2)^2.
  const num = swxq - z2 * swx;
  const den = swqq - 2 * z2 * swq + z2 * z2 * sw;
  if (!(den > 0)) return e;
  const s2 = storedScale(num / den, dtype);
  if (s2 === 0 || !Number.isFinite(s2) || (s2 === s && z2 === z)) return e;
  const e2 = groupErr(xs, ws, len, s2, z2);
  if (e2 < e) {
    out[0] = s2;
    out[1] = z2;
    return e2;
  }
  return e;
}

/** Output buffers for `rows` rows of an int4 matrix. */
export interface Int4Buffers {
  readonly data: Uint8Array;
  readonly scales: Float32Array;
  /** Uint8Array for integer zero points, Float32Array for float ones, null when symmetric. */
  readonly zeros: Uint8Array | Float32Array | null;
}

export function allocInt4(rows: number, cols: number, cfg: Int4Config): Int4Buffers {
  const nGroups = groupsPerRow(cols, cfg.groupSize);
  return {
    data: new Uint8Array(rows * int4RowBytes(cols, cfg.groupSize)),
    scales: new Float32Array(rows * nGroups),
    zeros: cfg.symmetric ? null : cfg.zeroPoint === 'float' ? new Float32Array(rows * nGroups) : new Uint8Array(rows * nGroups),
  };
}

/** Sets the 4-bit level of column k in a packed row starting at byte `base` (low nibble = even k). */
export function putNibble(data: Uint8Array, base: number, k: number, q: number): void {
  const idx = base + (k >> 1);
  data[idx] = k & 1 ? (data[idx] & 0x0f) | (q << 4) : (data[idx] & 0xf0) | q;
}

/**
 * Quantizes rows [0, rows) of W (row-major [rows, cols]) into out (allocInt4(rows, ...)).
 * The kernel behind quantizeInt4 and the worker pool.
 */
export function quantizeInt4Rows(
  W: Float32Array,
  rows: number,
  cols: number,
  cfg: Int4Config,
  out: Int4Buffers,
  colWeights: Float32Array | Float64Array | null = null,
): void {
  if (cfg.method === 'rtn' && cfg.zeroPoint === 'int' && !colWeights) {
    rtnRows(W, rows, cols, cfg, out);
    return;
  }
  const g = cfg.groupSize;
  const nGroups = groupsPerRow(cols, g);
  const rowBytes = int4RowBytes(cols, g);
  const xs = new Float64Array(g);
  const ws = new Float64Array(g);
  const res = new Float64Array(2);
  if (!colWeights) ws.fill(1);
  for (let r = 0; r < rows; r++) {
    const wBase = r * cols;
    const dBase = r * rowBytes;
    for (let grp = 0; grp < nGroups; grp++) {
      const k0 = grp * g;
      const len = Math.min(g, cols - k0);
      for (let i = 0; i < len; i++) xs[i] = W[wBase + k0 + i];
      if (colWeights) for (let i = 0; i < len; i++) ws[i] = colWeights[k0 + i];
      chooseGroupParams(xs, ws, len, cfg, res);
      writeGroup(out, r, nGroups, dBase, grp, k0, g, len, xs, res[0], res[1], cfg.symmetric);
    }
  }
}

/**
 * Round-to-nearest with integer zeros, straight from W: the same (scale, zero) as
 * chooseGroupParams' RTN candidate and the same levels as writeGroup (tested bit for bit), in one
 * pass for the range and one that writes each byte once.
 */
function rtnRows(W: Float32Array, rows: number, cols: number, cfg: Int4Config, out: Int4Buffers): void {
  const g = cfg.groupSize;
  const nGroups = groupsPerRow(cols, g);
  const rowBytes = int4RowBytes(cols, g);
  const sym = cfg.symmetric;
  const data = out.data;
  const zeros = out.zeros;
  for (let r = 0; r < rows; r++) {
    const wBase = r * cols;
    for (let grp = 0; grp < nGroups; grp++) {
      const k0 = grp * g;
      const len = Math.min(g, cols - k0);
      const at = wBase + k0;
      let mn = 0;
      let mx = 0;
      let amax = 0;
      for (let i = 0; i < len; i++) {
        const v = W[at + i];
        if (v < mn) mn = v;
        if (v > mx) mx = v;
        const a = Math.abs(v);
        if (!(a < Infinity)) throw new Error('int4: non-finite weight');
        if (a > amax) amax = a;
      }
      let s = 0;
      let z = 8;
      if (amax !== 0) {
        if (sym) s = storedScale(amax / 7, cfg.scaleDtype);
        else {
          s = storedScale((mx - mn) / 15, cfg.scaleDtype);
          if (s !== 0) {
            const c = -mn / s;
            z = Math.round(c < 0 ? 0 : c > 15 ? 15 : c);
          }
        }
      }
      out.scales[r * nGroups + grp] = s;
      if (!sym && zeros) zeros[r * nGroups + grp] = z;
      const inv = s === 0 ? 0 : 1 / s;
      const d0 = r * rowBytes + (k0 >> 1);
      for (let i = 0; i < g; i += 2) {
        let q0 = z;
        let q1 = z;
        if (s !== 0) {
          if (i < len) {
            q0 = Math.floor(W[at + i] * inv + z + 0.5);
            q0 = q0 < 0 ? 0 : q0 > 15 ? 15 : q0;
          }
          if (i + 1 < len) {
            q1 = Math.floor(W[at + i + 1] * inv + z + 0.5);
            q1 = q1 < 0 ? 0 : q1 > 15 ? 15 : q1;
          }
        }
        data[d0 + (i >> 1)] = q0 | (q1 << 4);
      }
    }
  }
}

/** Packs one group's levels (and the padding of a ragged last group, at the zero level). */
export function writeGroup(
  out: Int4Buffers,
  row: number,
  nGroups: number,
  dBase: number,
  grp: number,
  k0: number,
  g: number,
  len: number,
  xs: Float64Array,
  s: number,
  z: number,
  symmetric: boolean,
): void {
  out.scales[row * nGroups + grp] = s;
  if (!symmetric && out.zeros) out.zeros[row * nGroups + grp] = z;
  const inv = s === 0 ? 0 : 1 / s;
  // Padding (and an all-zero group) sits at the zero level: exactly 0 for integer zeros.
  const zq = Math.round(z);
  for (let i = 0; i < g; i++) {
    const q = i < len ? (s === 0 ? zq : quantLevel(xs[i], inv, z)) : zq;
    putNibble(out.data, dBase, k0 + i, q);
  }
}

/**
 * The proposed float-zero variant of QuantizedMatrix: identical except that `zeros` holds real
 * zero points (value = (q − zero)·scale). Padding nibbles hold round(zero), which does not
 * dequantize to exactly 0, so kernels must stop at `cols`. ONNX MatMulNBits accepts zero points
 * of the scales' type; adopting this needs compiler/ir/quantized.ts and the kernels to allow it.
 */
export type FloatZeroMatrix = Omit<QuantizedMatrix, 'zeros'> & { readonly zeros: Float32Array };

/** Dequantizes a FloatZeroMatrix to float32 [rows, cols]. */
export function dequantizeFloatZero(m: FloatZeroMatrix): Float32Array {
  const { rows, cols, nGroups } = m;
  const g = m.scheme.groupSize;
  const rowBytes = int4RowBytes(cols, g);
  const data = m.data as Uint8Array;
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < cols; k++) {
      const byte = data[r * rowBytes + (k >> 1)];
      const q = k & 1 ? byte >> 4 : byte & 15;
      const gi = r * nGroups + ((k / g) | 0);
      out[r * cols + k] = (q - m.zeros[gi]) * m.scales[gi];
    }
  }
  return out;
}

/** Integer zeros (or none) give a QuantizedMatrix, float zeros a FloatZeroMatrix. */
export function int4Matrix(rows: number, cols: number, cfg: Int4Config, buf: Int4Buffers, method: QuantMethod): QuantizedMatrix | FloatZeroMatrix {
  return {
    scheme: { bits: 4, groupSize: cfg.groupSize, symmetric: cfg.symmetric, scaleDtype: cfg.scaleDtype, method },
    rows,
    cols,
    nGroups: groupsPerRow(cols, cfg.groupSize),
    data: buf.data,
    scales: buf.scales,
    zeros: buf.zeros,
  } as QuantizedMatrix | FloatZeroMatrix;
}

/** Int4 weight-only quantization of W [N, K] (row-major), in this thread. */
export function quantizeInt4(W: Float32Array, N: number, K: number, opts?: Int4Options & { readonly zeroPoint?: 'int' }): QuantizedMatrix;
export function quantizeInt4(W: Float32Array, N: number, K: number, opts: Int4Options & { readonly zeroPoint: 'float' }): FloatZeroMatrix;
export function quantizeInt4(W: Float32Array, N: number, K: number, opts: Int4Options): QuantizedMatrix | FloatZeroMatrix;
export function quantizeInt4(W: Float32Array, N: number, K: number, opts: Int4Options = {}): QuantizedMatrix | FloatZeroMatrix {
  checkShape(W, N, K);
  const cfg = resolveInt4(opts);
  if (opts.colWeights && opts.colWeights.length !== K) throw new Error(`int4: colWeights length ${opts.colWeights.length} != K ${K}`);
  const buf = allocInt4(N, K, cfg);
  quantizeInt4Rows(W, N, K, cfg, buf, opts.colWeights ?? null);
  return int4Matrix(N, K, cfg, buf, cfg.method);
}

/** Dequantizes either layout. */
export function dequantizeAny(m: QuantizedMatrix | FloatZeroMatrix): Float32Array {
  return m.zeros instanceof Float32Array ? dequantizeFloatZero(m as FloatZeroMatrix) : dequantize(m as QuantizedMatrix);
}

export function checkShape(W: ArrayLike<number>, N: number, K: number): void {
  if (!Number.isInteger(N) || !Number.isInteger(K) || N <= 0 || K <= 0) throw new Error(`bad shape [${N}, ${K}]`);
  if (W.length !== N * K) throw new Error(`weight has ${W.length} values, shape [${N}, ${K}] needs ${N * K}`);
}
