// GPTQ (Frantar et al. 2022) for int4 groups, emitting the plain layout of compiler/ir/quantized.ts.
//
// Statistics it needs: H = Σ x xᵀ over calibration activations x ∈ R^K that *enter this matrix*
// (the input of the linear layer, e.g. the RMSNorm output for q/k/v/gate/up, the attention
// output for o, silu(gate)*up for down). Any positive multiple of H gives the same result (the
// damping is relative to mean(diag H)); use HessianAccumulator to build it.
//
// Algorithm, as in the reference implementation, with these choices:
//   - dead columns (diag H = 0: the input channel was always 0) get H_ii = 1 and W[:, i] = 0;
//   - damping λ = percdamp · mean(diag H) (retried ×10 if H + λI is not positive definite);
//   - optional act-order (off by default, it measured worse): columns processed by decreasing diag H; groups stay the contiguous
//     ranges of K the layout needs, and a group's (scale, zero) is chosen with the int4 search
//     from the group's *current* (error-updated) weights when its first column is processed;
//   - U = upper Cholesky factor of H⁻¹ (H⁻¹ = UᵀU), computed as R⁻¹ from H = R Rᵀ (R upper):
//     one Cholesky and one triangular inverse, no explicit H⁻¹;
//   - lazy batches of `blockSize` columns: errors are applied inside the block immediately and
//     to the columns after the block once per block.
// Rows are independent given U, so the pool quantizes row chunks in workers sharing U through
// a SharedArrayBuffer, with byte-identical results.

import { groupsPerRow, int4RowBytes } from '../ir/quantized.js';
import type { QuantizedMatrix, ScaleDtype } from '../ir/quantized.js';
import { allocInt4, checkShape, chooseGroupParams, int4Matrix, putNibble, quantLevel, resolveInt4, storedScale } from './int4.js';
import type { FloatZeroMatrix, Int4Buffers, Int4Config, Int4Options } from './int4.js';

export interface GptqHessianOptions {
  /** Damping as a fraction of mean(diag H). Default 0.01. */
  readonly percdamp?: number;
  /**
   * Process columns by decreasing diag H. Default false: on stories260K (int4 g32 asym, all
   * linears) act-order gave +5.4% perplexity against +4.8% without it.
   */
  readonly actOrder?: boolean;
  /**
   * After GPTQ fixes the levels, refit each row's group scales by least squares on the
   * calibration objective (w − ŵ)ᵀ (H + λI) (w − ŵ), keeping a refit only when it lowers that
   * objective. Keeps a second K×K matrix. Default false: it lowers the calibration objective
   * but did not move stories260K perplexity (+4.84% vs +4.81%).
   */
  readonly refit?: boolean;
}

export interface GptqOptions extends Int4Options, GptqHessianOptions {
  /** Lazy-batch width in columns. Default 128. */
  readonly blockSize?: number;
}

/** H prepared for GPTQ: reusable for every matrix that reads the same input (q, k, v; gate, up). */
export interface GptqHessian {
  readonly K: number;
  /** Upper Cholesky factor U of (H + λI)⁻¹ in processing order, row-major K×K; only the upper triangle is meaningful. SharedArrayBuffer-backed. */
  readonly U: Float64Array;
  /** perm[j] = original column processed j-th. */
  readonly perm: Int32Array;
  /** 1 where diag H was 0 (original column order). */
  readonly dead: Uint8Array;
  /** The damping actually added. */
  readonly damp: number;
  /** H + λI in original column order (SharedArrayBuffer-backed), kept when refit is on. */
  readonly Hd: Float64Array | null;
}

/** Prepares H (K×K, row-major, symmetric; not modified) for quantizeGptq. O(K³/3). */
export function prepareGptq(H: Float64Array, K: number, opts: GptqHessianOptions = {}): GptqHessian {
  if (H.length !== K * K) throw new Error(`gptq: H has ${H.length} values, K=${K} needs ${K * K}`);
  const percdamp = opts.percdamp ?? 0.01;
  const actOrder = opts.actOrder ?? false;
  const dead = new Uint8Array(K);
  const diag = new Float64Array(K);
  for (let i = 0; i < K; i++) {
    const d = H[i * K + i];
    if (!Number.isFinite(d) || d < 0) throw new Error(`gptq: H[${i},${i}] = ${d} is not a valid Hessian diagonal`);
    dead[i] = d === 0 ? 1 : 0;
    diag[i] = d === 0 ? 1 : d;
  }
  const perm = new Int32Array(K);
  for (let i = 0; i < K; i++) perm[i] = i;
  if (actOrder) {
    // Stable: ties keep index order, so the permutation is deterministic.
    const idx = Array.from(perm);
    idx.sort((a, b) => diag[b] - diag[a] || a - b);
    perm.set(idx);
  }
  let mean = 0;
  for (let i = 0; i < K; i++) mean += diag[i];
  mean /= K;
  const U = new Float64Array(new SharedArrayBuffer(K * K * 8));
  let damp = percdamp * mean;
  for (let attempt = 0; attempt < 6; attempt++) {
    // Permuted, damped copy of H (dead rows/cols are zero off the diagonal for a PSD H).
    for (let i = 0; i < K; i++) {
      const pi = perm[i];
      const src = pi * K;
      const dst = i * K;
      for (let j = i; j < K; j++) U[dst + j] = dead[pi] || dead[perm[j]] ? 0 : H[src + perm[j]];
      U[dst + i] = diag[pi] + damp;
    }
    if (upperCholeskyInPlace(U, K)) {
      invertUpperInPlace(U, K);
      let Hd: Float64Array | null = null;
      if (opts.refit ?? false) {
        Hd = new Float64Array(new SharedArrayBuffer(K * K * 8));
        for (let i = 0; i < K; i++) {
          for (let j = 0; j < K; j++) Hd[i * K + j] = dead[i] || dead[j] ? 0 : H[i * K + j];
          Hd[i * K + i] = diag[i] + damp;
        }
      }
      return { K, U, perm, dead, damp, Hd };
    }
    damp = damp > 0 ? damp * 10 : 1e-6 * mean;
  }
  throw new Error('gptq: H + λI is not positive definite even with heavy damping');
}

/**
 * In place: from the upper triangle of symmetric A, computes upper R with A = R Rᵀ (a Cholesky
 * factorization from the bottom-right corner). Returns false if A is not positive definite.
 * Dot-product form over contiguous row suffixes.
 */
function upperCholeskyInPlace(A: Float64Array, K: number): boolean {
  for (let j = K - 1; j >= 0; j--) {
    const rj = j * K;
    let s = A[rj + j];
    for (let k = j + 1; k < K; k++) s -= A[rj + k] * A[rj + k];
    if (!(s > 0)) return false;
    const d = Math.sqrt(s);
    A[rj + j] = d;
    const inv = 1 / d;
    let i = 0;
    // Four rows i per pass over row j's suffix.
    for (; i + 4 <= j; i += 4) {
      const r0 = i * K;
      const r1 = r0 + K;
      const r2 = r1 + K;
      const r3 = r2 + K;
      let t0 = A[r0 + j];
      let t1 = A[r1 + j];
      let t2 = A[r2 + j];
      let t3 = A[r3 + j];
      for (let k = j + 1; k < K; k++) {
        const a = A[rj + k];
        t0 -= A[r0 + k] * a;
        t1 -= A[r1 + k] * a;
        t2 -= A[r2 + k] * a;
        t3 -= A[r3 + k] * a;
      }
      A[r0 + j] = t0 * inv;
      A[r1 + j] = t1 * inv;
      A[r2 + j] = t2 * inv;
      A[r3 + j] = t3 * inv;
    }
    for (; i < j; i++) {
      const ri = i * K;
      let t = A[ri + j];
      for (let k = j + 1; k < K; k++) t -= A[ri + k] * A[rj + k];
      A[ri + j] = t * inv;
    }
  }
  return true;
}

/** In place: upper triangular R -> R⁻¹ (upper), row by row from the bottom. */
function invertUpperInPlace(A: Float64Array, K: number): void {
  const tmp = new Float64Array(K);
  for (let i = K - 1; i >= 0; i--) {
    const ri = i * K;
    const rii = A[ri + i];
    for (let k = i + 1; k < K; k++) {
      tmp[k] = A[ri + k];
      A[ri + k] = 0;
    }
    let k = i + 1;
    // Four rows of U per pass over row i (their upper triangles start at k..k+3; the lower
    // triangle still holds H, so the first three columns are done term by term).
    for (; k + 4 <= K; k += 4) {
      const t0 = tmp[k];
      const t1 = tmp[k + 1];
      const t2 = tmp[k + 2];
      const t3 = tmp[k + 3];
      const r0 = k * K;
      const r1 = r0 + K;
      const r2 = r1 + K;
      const r3 = r2 + K;
      A[ri + k] += t0 * A[r0 + k];
      A[ri + k + 1] += t0 * A[r0 + k + 1] + t1 * A[r1 + k + 1];
      A[ri + k + 2] += t0 * A[r0 + k + 2] + t1 * A[r1 + k + 2] + t2 * A[r2 + k + 2];
      for (let j = k + 3; j < K; j++) A[ri + j] += t0 * A[r0 + j] + t1 * A[r1 + j] + t2 * A[r2 + j] + t3 * A[r3 + j];
    }
    for (; k < K; k++) {
      const t = tmp[k];
      if (t === 0) continue;
      const rk = k * K;
      for (let j = k; j < K; j++) A[ri + j] += t * A[rk + j];
    }
    const inv = 1 / rii;
    for (let j = i + 1; j < K; j++) A[ri + j] *= -inv;
    A[ri + i] = inv;
  }
}

/** The column tile width of the lazy trailing update (keeps a block×tile slab of U in cache). */
const TILE = 512;

/**
 * GPTQ on rows [0, rows) of W ([rows, K] row-major) into out (allocInt4(rows, K, cfg)).
 * The kernel behind quantizeGptq and the worker pool.
 */
export function gptqRows(
  W: Float32Array,
  rows: number,
  K: number,
  hess: GptqHessian,
  cfg: Int4Config,
  blockSize: number,
  out: Int4Buffers,
  colWeights: Float32Array | Float64Array | null = null,
): void {
  if (hess.K !== K) throw new Error(`gptq: Hessian is for K=${hess.K}, weight has K=${K}`);
  const { U, perm, dead } = hess;
  const g = cfg.groupSize;
  const nGroups = groupsPerRow(K, g);
  const rowBytes = int4RowBytes(K, g);
  const pos = new Int32Array(K);
  for (let j = 0; j < K; j++) pos[perm[j]] = j;
  // Working weights in processing order, f64.
  const Wp = new Float64Array(rows * K);
  for (let r = 0; r < rows; r++) {
    const src = r * K;
    const dst = r * K;
    for (let j = 0; j < K; j++) {
      const c = perm[j];
      Wp[dst + j] = dead[c] ? 0 : W[src + c];
    }
  }
  const gScale = new Float64Array(rows * nGroups);
  const gZero = new Float64Array(rows * nGroups);
  const groupSet = new Uint8Array(nGroups);
  const B = Math.max(1, blockSize | 0);
  const Err = new Float64Array(rows * B);
  const xs = new Float64Array(g);
  const ws = new Float64Array(g);
  const res = new Float64Array(2);
  if (!colWeights) ws.fill(1);

  for (let i1 = 0; i1 < K; i1 += B) {
    const i2 = Math.min(i1 + B, K);
    for (let i = i1; i < i2; i++) {
      const c = perm[i];
      const grp = (c / g) | 0;
      if (!groupSet[grp]) {
        groupSet[grp] = 1;
        const k0 = grp * g;
        const len = Math.min(g, K - k0);
        if (colWeights) for (let t = 0; t < len; t++) ws[t] = colWeights[k0 + t];
        for (let r = 0; r < rows; r++) {
          const wr = r * K;
          const er = r * B;
          for (let t = 0; t < len; t++) {
            const p = pos[k0 + t];
            let v = Wp[wr + p];
            // Columns after this block have not yet received this block's errors (lazy batch).
            if (p >= i2) for (let b = i1; b < i; b++) v -= Err[er + b - i1] * U[b * K + p];
            xs[t] = v;
          }
          chooseGroupParams(xs, ws, len, cfg, res);
          gScale[r * nGroups + grp] = res[0];
          gZero[r * nGroups + grp] = res[1];
        }
      }
      const ui = i * K;
      const d = U[ui + i];
      for (let r = 0; r < rows; r++) {
        const wr = r * K;
        const s = gScale[r * nGroups + grp];
        const z = gZero[r * nGroups + grp];
        const w = Wp[wr + i];
        const q = s === 0 ? Math.round(z) : quantLevel(w, 1 / s, z);
        putNibble(out.data, r * rowBytes, c, q);
        const e = (w - (q - z) * s) / d;
        Err[r * B + i - i1] = e;
        if (e !== 0) for (let j = i + 1; j < i2; j++) Wp[wr + j] -= e * U[ui + j];
      }
    }
    // Lazy trailing update: W[:, i2:] -= Err · U[i1:i2, i2:], tiled over columns.
    for (let j0 = i2; j0 < K; j0 += TILE) {
      const j1 = Math.min(j0 + TILE, K);
      const cnt = i2 - i1;
      for (let r = 0; r < rows; r++) {
        const wr = r * K;
        const er = r * B;
        let b = 0;
        // Four block rows per pass: one load/store of W for four multiply-adds.
        for (; b + 4 <= cnt; b += 4) {
          const e0 = Err[er + b];
          const e1 = Err[er + b + 1];
          const e2 = Err[er + b + 2];
          const e3 = Err[er + b + 3];
          const u0 = (i1 + b) * K;
          const u1 = u0 + K;
          const u2 = u1 + K;
          const u3 = u2 + K;
          for (let j = j0; j < j1; j++) Wp[wr + j] -= e0 * U[u0 + j] + e1 * U[u1 + j] + e2 * U[u2 + j] + e3 * U[u3 + j];
        }
        for (; b < cnt; b++) {
          const e = Err[er + b];
          if (e === 0) continue;
          const ub = (i1 + b) * K;
          for (let j = j0; j < j1; j++) Wp[wr + j] -= e * U[ub + j];
        }
      }
    }
  }
  if (hess.Hd) {
    for (let r = 0; r < rows; r++) refitRow(W, r, K, hess, g, nGroups, rowBytes, out.data, gScale, gZero, cfg.scaleDtype);
  }
  // Scales, zeros and the ragged-group padding (at the zero level).
  for (let r = 0; r < rows; r++) {
    for (let grp = 0; grp < nGroups; grp++) {
      out.scales[r * nGroups + grp] = gScale[r * nGroups + grp];
      if (out.zeros) out.zeros[r * nGroups + grp] = gZero[r * nGroups + grp];
    }
    const z = Math.round(gZero[r * nGroups + nGroups - 1]);
    for (let k = K; k < nGroups * g; k++) putNibble(out.data, r * rowBytes, k, z);
  }
}

/**
 * Least-squares refit of one row's group scales for its fixed levels: with c_k = q_k − z_g(k)
 * and ŵ = Σ_g a_g c|_g, minimize (w − ŵ)ᵀ Hd (w − ŵ) over a: (CᵀHdC) a = CᵀHd w.
 * The solution is rounded to the stored dtype and kept only if the objective drops.
 */
function refitRow(
  W: Float32Array,
  r: number,
  K: number,
  hess: GptqHessian,
  g: number,
  G: number,
  rowBytes: number,
  data: Uint8Array,
  gScale: Float64Array,
  gZero: Float64Array,
  dtype: ScaleDtype,
): void {
  const Hd = hess.Hd as Float64Array;
  const c = new Float64Array(K);
  const w = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    const byte = data[r * rowBytes + (k >> 1)];
    const q = k & 1 ? byte >> 4 : byte & 15;
    c[k] = q - gZero[r * G + ((k / g) | 0)];
    w[k] = hess.dead[k] ? 0 : W[r * K + k];
  }
  // P[k][g'] = Σ_{j∈g'} Hd[k][j] c[j];  hw[k] = Σ_j Hd[k][j] w[j]
  const P = new Float64Array(K * G);
  const hw = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    const hk = k * K;
    let acc = 0;
    for (let gg = 0; gg < G; gg++) {
      const j1 = Math.min(K, gg * g + g);
      let p = 0;
      for (let j = gg * g; j < j1; j++) {
        p += Hd[hk + j] * c[j];
        acc += Hd[hk + j] * w[j];
      }
      P[k * G + gg] = p;
    }
    hw[k] = acc;
  }
  const M = new Float64Array(G * G);
  const rhs = new Float64Array(G);
  for (let k = 0; k < K; k++) {
    const gk = (k / g) | 0;
    const ck = c[k];
    if (ck === 0) continue;
    rhs[gk] += ck * hw[k];
    for (let gg = 0; gg < G; gg++) M[gk * G + gg] += ck * P[k * G + gg];
  }
  const old = gScale.subarray(r * G, r * G + G);
  const objective = (a: ArrayLike<number>): number => {
    let f = 0;
    for (let i = 0; i < G; i++) {
      let ma = 0;
      for (let j = 0; j < G; j++) ma += M[i * G + j] * a[j];
      f += a[i] * (ma - 2 * rhs[i]);
    }
    return f;
  };
  // Ridge toward the current scales keeps groups with all-zero c (and near-singular M) put.
  let tr = 0;
  for (let i = 0; i < G; i++) tr += M[i * G + i];
  const lam = 1e-9 * (tr / G) + 1e-300;
  const A = new Float64Array(M);
  const b = new Float64Array(G);
  for (let i = 0; i < G; i++) {
    A[i * G + i] += lam;
    b[i] = rhs[i] + lam * old[i];
  }
  const a = solveSpd(A, b, G);
  if (!a) return;
  for (let i = 0; i < G; i++) {
    a[i] = storedScale(a[i], dtype);
    if (!Number.isFinite(a[i])) return;
  }
  if (objective(a) < objective(old)) old.set(a);
}

/** Solves A x = b for SPD A (G×G, destroyed) by Cholesky; null if not positive definite. */
function solveSpd(A: Float64Array, b: Float64Array, G: number): Float64Array | null {
  for (let j = 0; j < G; j++) {
    let s = A[j * G + j];
    for (let k = 0; k < j; k++) s -= A[j * G + k] * A[j * G + k];
    if (!(s > 0)) return null;
    const d = Math.sqrt(s);
    A[j * G + j] = d;
    for (let i = j + 1; i < G; i++) {
      let t = A[i * G + j];
      for (let k = 0; k < j; k++) t -= A[i * G + k] * A[j * G + k];
      A[i * G + j] = t / d;
    }
  }
  const x = new Float64Array(b);
  for (let i = 0; i < G; i++) {
    let t = x[i];
    for (let k = 0; k < i; k++) t -= A[i * G + k] * x[k];
    x[i] = t / A[i * G + i];
  }
  for (let i = G - 1; i >= 0; i--) {
    let t = x[i];
    for (let k = i + 1; k < G; k++) t -= A[k * G + i] * x[k];
    x[i] = t / A[i * G + i];
  }
  return x;
}

/**
 * GPTQ int4 of W [N, K] in this thread. H: raw K×K Hessian (Σ x xᵀ) or a prepared one
 * (prepareGptq; then percdamp/actOrder in opts are ignored).
 */
export function quantizeGptq(W: Float32Array, N: number, K: number, H: Float64Array | GptqHessian, opts?: GptqOptions & { readonly zeroPoint?: 'int' }): QuantizedMatrix;
export function quantizeGptq(W: Float32Array, N: number, K: number, H: Float64Array | GptqHessian, opts: GptqOptions & { readonly zeroPoint: 'float' }): FloatZeroMatrix;
export function quantizeGptq(W: Float32Array, N: number, K: number, H: Float64Array | GptqHessian, opts: GptqOptions): QuantizedMatrix | FloatZeroMatrix;
export function quantizeGptq(W: Float32Array, N: number, K: number, H: Float64Array | GptqHessian, opts: GptqOptions = {}): QuantizedMatrix | FloatZeroMatrix {
  checkShape(W, N, K);
  const cfg = resolveInt4(opts);
  const hess = H instanceof Float64Array ? prepareGptq(H, K, opts) : H;
  const buf = allocInt4(N, K, cfg);
  gptqRows(W, N, K, hess, cfg, opts.blockSize ?? 128, buf, opts.colWeights ?? null);
  return int4Matrix(N, K, cfg, buf, 'gptq');
}

/**
 * Accumulates H = Σ x xᵀ (and per-channel Σ|x|, Σx² for AWQ / importance weights) over
 * activation rows, e.g. the input of a linear layer while the interpreter runs calibration ids.
 */
export class HessianAccumulator {
  readonly K: number;
  /** Upper triangle accumulates; finalize() mirrors it. */
  private readonly H: Float64Array;
  private readonly absSum: Float64Array;
  private readonly sqSum: Float64Array;
  private n = 0;

  constructor(K: number) {
    this.K = K;
    this.H = new Float64Array(K * K);
    this.absSum = new Float64Array(K);
    this.sqSum = new Float64Array(K);
  }

  /** Number of activation rows seen. */
  get count(): number {
    return this.n;
  }

  /** Adds `rows` activation rows X [rows, K] (row-major). */
  addRows(X: Float32Array | Float64Array, rows: number, K: number): void {
    if (K !== this.K) throw new Error(`HessianAccumulator: K=${K}, expected ${this.K}`);
    if (X.length < rows * K) throw new Error(`HessianAccumulator: X has ${X.length} values, need ${rows * K}`);
    const H = this.H;
    for (let r = 0; r < rows; r++) {
      const b = r * K;
      for (let i = 0; i < K; i++) {
        const v = X[b + i];
        this.absSum[i] += Math.abs(v);
        this.sqSum[i] += v * v;
      }
    }
    // Four rows per pass over H: a quarter of the memory traffic.
    let r = 0;
    for (; r + 4 <= rows; r += 4) {
      const b0 = r * K;
      const b1 = b0 + K;
      const b2 = b1 + K;
      const b3 = b2 + K;
      for (let i = 0; i < K; i++) {
        const a0 = X[b0 + i];
        const a1 = X[b1 + i];
        const a2 = X[b2 + i];
        const a3 = X[b3 + i];
        if (a0 === 0 && a1 === 0 && a2 === 0 && a3 === 0) continue;
        const hi = i * K;
        for (let j = i; j < K; j++) H[hi + j] += a0 * X[b0 + j] + a1 * X[b1 + j] + a2 * X[b2 + j] + a3 * X[b3 + j];
      }
    }
    for (; r < rows; r++) {
      const b0 = r * K;
      for (let i = 0; i < K; i++) {
        const a0 = X[b0 + i];
        if (a0 === 0) continue;
        const hi = i * K;
        for (let j = i; j < K; j++) H[hi + j] += a0 * X[b0 + j];
      }
    }
    this.n += rows;
  }

  /** The full symmetric H = Σ x xᵀ (a fresh array). */
  hessian(): Float64Array {
    const K = this.K;
    const out = new Float64Array(this.H);
    for (let i = 0; i < K; i++) for (let j = i + 1; j < K; j++) out[j * K + i] = out[i * K + j];
    return out;
  }

  /** mean |x_k| per channel (AWQ's activation statistic). */
  meanAbs(): Float32Array {
    return this.mean(this.absSum);
  }

  /** mean x_k² per channel (= diag H / count; importance weights for the int4 search). */
  meanSquare(): Float32Array {
    return this.mean(this.sqSum);
  }

  private mean(sum: Float64Array): Float32Array {
    const out = new Float32Array(this.K);
    if (this.n > 0) for (let i = 0; i < this.K; i++) out[i] = sum[i] / this.n;
    return out;
  }
}
