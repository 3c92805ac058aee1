// AWQ-style activation-aware scaling (Lin et al. 2023), as a search that returns scales for the
// caller to fold; it never changes W or any other tensor itself.
//
// Contract. For a linear y = W x with W [N, K], the search picks s ∈ R^K (s_k > 0) so that
//   y = (W · diag(s)) (diag(s)⁻¹ x)
// is unchanged in exact arithmetic while W·diag(s) quantizes with less *output* error. The caller:
//   1. quantizes W' = scaleColumns(W, N, K, s)   (W'[n,k] = W[n,k] · s[k]) with the same int4
//      options it passed here (GPTQ: with H' = scaleHessian(H, K, s), since x' = x / s);
//   2. divides the producer of x by s, channel by channel:
//      - x = RMSNorm(h) · γ  (q/k/v, gate/up, lm_head): γ'[k] = γ[k] / s[k];
//      - x = silu(gate) ⊙ up (down_proj): row k of up_proj /= s[k];
//      - x = attention output (o_proj): row k of v_proj /= s[k], valid only when each v channel
//        feeds exactly one o channel (no GQA sharing); otherwise skip o_proj.
//   Matrices that read the same x (q, k, v; gate, up) must share one s: pass their rows
//   concatenated as one W [Nq+Nk+Nv, K].
// Statistics: actMeanAbs[k] = mean over calibration tokens of |x_k| (HessianAccumulator.meanAbs);
// optionally X, a few calibration activation rows [rows, K], for the exact output error.

import { allocInt4, checkShape, dequantizeAny, int4Matrix, quantizeInt4Rows, resolveInt4 } from './int4.js';
import type { Int4Options } from './int4.js';

export interface AwqOptions extends Int4Options {
  /** Number of alphas in [0, 1) tried: alpha = i / grid. Default 10 (alpha 0 = no scaling). */
  readonly grid?: number;
  /** Rows of X used (the first ones). Default 64. */
  readonly maxRows?: number;
}

export interface AwqResult {
  /** s [K]: multiply W's columns by it, divide the input producer by it (see the contract). */
  readonly scales: Float32Array;
  readonly alpha: number;
  /** Output error of the chosen scaling and of no scaling (alpha 0), on the same objective. */
  readonly err: number;
  readonly baseErr: number;
}

/**
 * Searches s = mean|x|^alpha (normalized so sqrt(max·min) = 1) over the alpha grid, minimizing
 * ||X Wᵀ − X (Q(W·s)/s)ᵀ||² on sample rows X [xRows, K] when given, otherwise the diagonal
 * proxy Σ_n Σ_k (actMeanAbs_k · (W − Q(W·s)/s)_nk)².
 */
export function awqScales(
  W: Float32Array,
  N: number,
  K: number,
  actMeanAbs: Float32Array,
  X: Float32Array | null = null,
  opts: AwqOptions & { readonly xRows?: number } = {},
): AwqResult {
  checkShape(W, N, K);
  if (actMeanAbs.length !== K) throw new Error(`awq: actMeanAbs length ${actMeanAbs.length} != K ${K}`);
  const cfg = resolveInt4(opts);
  const grid = opts.grid ?? 10;
  let xRows = 0;
  if (X) {
    xRows = Math.min(opts.xRows ?? Math.floor(X.length / K), opts.maxRows ?? 64);
    if (xRows * K > X.length || xRows <= 0) throw new Error('awq: X is smaller than xRows * K');
  }
  const Y = X ? matmulT(X, xRows, W, N, K) : null;
  let best: AwqResult | null = null;
  let baseErr = Infinity;
  const s = new Float32Array(K);
  const Ws = new Float32Array(N * K);
  for (let gi = 0; gi < grid; gi++) {
    const alpha = gi / grid;
    let mx = 0;
    let mn = Infinity;
    for (let k = 0; k < K; k++) {
      const v = Math.pow(Math.max(actMeanAbs[k], 1e-8), alpha);
      s[k] = v;
      if (v > mx) mx = v;
      if (v < mn) mn = v;
    }
    const norm = Math.sqrt(mx * mn);
    for (let k = 0; k < K; k++) s[k] = Math.fround(s[k] / norm);
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) Ws[n * K + k] = W[n * K + k] * s[k];
    const buf = allocInt4(N, K, cfg);
    quantizeInt4Rows(Ws, N, K, cfg, buf, opts.colWeights ?? null);
    const Wq = dequantizeAny(int4Matrix(N, K, cfg, buf, 'awq'));
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) Wq[n * K + k] /= s[k];
    let err = 0;
    if (X && Y) {
      const Yq = matmulT(X, xRows, Wq, N, K);
      for (let i = 0; i < Y.length; i++) err += (Y[i] - Yq[i]) ** 2;
    } else {
      for (let n = 0; n < N; n++) {
        for (let k = 0; k < K; k++) {
          const d = (W[n * K + k] - Wq[n * K + k]) * actMeanAbs[k];
          err += d * d;
        }
      }
    }
    if (gi === 0) baseErr = err;
    if (!best || err < best.err) best = { scales: new Float32Array(s), alpha, err, baseErr };
  }
  const b = best as AwqResult;
  return { scales: b.scales, alpha: b.alpha, err: b.err, baseErr };
}

/** X [rows, K] · Wᵀ -> [rows, N], f64 accumulation. */
function matmulT(X: Float32Array, rows: number, W: Float32Array, N: number, K: number): Float64Array {
  const Y = new Float64Array(rows * N);
  for (let r = 0; r < rows; r++) {
    for (let n = 0; n < N; n++) {
      let acc = 0;
      const xb = r * K;
      const wb = n * K;
      for (let k = 0; k < K; k++) acc += X[xb + k] * W[wb + k];
      Y[r * N + n] = acc;
    }
  }
  return Y;
}

/** W' = W · diag(s): column k times s[k] (a fresh array). */
export function scaleColumns(W: Float32Array, N: number, K: number, s: Float32Array): Float32Array {
  checkShape(W, N, K);
  const out = new Float32Array(N * K);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) out[n * K + k] = W[n * K + k] * s[k];
  return out;
}

/** H' = diag(s)⁻¹ H diag(s)⁻¹: the Hessian of the scaled inputs x / s (a fresh array). */
export function scaleHessian(H: Float64Array, K: number, s: Float32Array): Float64Array {
  const out = new Float64Array(K * K);
  for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) out[i * K + j] = H[i * K + j] / (s[i] * s[j]);
  return out;
}
