// Float32 reference semantics of every op. Products are summed in float64 and stored as float32:
// this is the oracle, so accuracy beats speed (it still runs the small models in seconds).

import { ropeAngle } from '../frontend/rope.js';
import { int4RowBytes, type QuantizedMatrix } from '../ir/quantized.js';

/**
 * Options of the interpreter's kernels. actQuant 'int8' is the activation quantization the NEON
 * (kernels-arm) and WGSL q8 matmuls do before a quantized matmul, so the interpreter can be the
 * like-for-like reference of those targets; 'none' keeps float32 activations (the default).
 */
export type ActQuant = 'none' | 'int8';

export interface InterpreterOptions {
  readonly actQuant: ActQuant;
}

export const FLOAT_ACTIVATIONS: InterpreterOptions = { actQuant: 'none' };

/** Activation block along K: 32 values share one scale (kernels-arm LK_KB, quant_x.wgsl). */
export const ACT_BLOCK = 32;

/** Round half to even: C's rintf in the default mode, NEON's vcvtnq, WGSL's round(). */
export function roundHalfEven(v: number): number {
  const fl = Math.floor(v);
  if (v - fl !== 0.5) return Math.round(v);
  return fl % 2 === 0 ? fl : fl + 1;
}

export interface Int8Activations {
  /** [S, nBlocks * 32], zero past K. */
  readonly q: Int8Array;
  /** [S, nBlocks]: the block scale d = f32(max|x| / 127). */
  readonly d: Float32Array;
  readonly nBlocks: number;
}

/**
 * x [S, K] to int8 per block of 32 along K exactly as kernels-arm's quant_act_scalar: amax = max|x|
 * over the block (zero padding past K), inv = f32(127 / amax) (0 when amax is 0), q = round half
 * to even of f32(x * inv), d = f32(amax / 127). q never leaves -127..127 (clamped as WGSL does).
 */
export function quantizeActivationsInt8(x: Float32Array, S: number, K: number): Int8Activations {
  const nb = Math.ceil(K / ACT_BLOCK);
  const W = nb * ACT_BLOCK;
  const q = new Int8Array(S * W);
  const d = new Float32Array(S * nb);
  for (let s = 0; s < S; s++) {
    for (let b = 0; b < nb; b++) {
      const k0 = b * ACT_BLOCK;
      const k1 = Math.min(K, k0 + ACT_BLOCK);
      let amax = 0;
      for (let kk = k0; kk < k1; kk++) amax = Math.max(amax, Math.abs(x[s * K + kk]));
      const inv = amax > 0 ? Math.fround(127 / amax) : 0;
      for (let kk = k0; kk < k1; kk++) q[s * W + kk] = Math.max(-127, Math.min(127, roundHalfEven(Math.fround(x[s * K + kk] * inv))));
      d[s * nb + b] = Math.fround(amax / 127);
    }
  }
  return { q, d, nBlocks: nb };
}

/**
 * y = x W^T with x quantized to int8 per block of 32 (quantizeActivationsInt8) and W's own integer
 * values: per block an exact integer dot product sum(qx * (qw - zero)), then scaled by the block's
 * activation scale and the weight's group (int4) or row (int8) scale, summed in float64. The
 * kernels do the same integer sums and round the scaling in float32 (differences ~1e-7 relative).
 */
export function linearInt8Act(x: Float32Array, S: number, m: QuantizedMatrix): Float32Array {
  const K = m.cols;
  const N = m.rows;
  const a = quantizeActivationsInt8(x, S, K);
  const nb = a.nBlocks;
  const W = nb * ACT_BLOCK;
  const y = new Float32Array(S * N);
  const wq = new Int32Array(W); // one row of W as integers (q - zero), zero past K
  for (let n = 0; n < N; n++) {
    weightRowInts(m, n, wq);
    for (let s = 0; s < S; s++) {
      let acc = 0;
      for (let b = 0; b < nb; b++) {
        let isum = 0;
        for (let kk = b * ACT_BLOCK; kk < (b + 1) * ACT_BLOCK; kk++) isum += a.q[s * W + kk] * wq[kk];
        const ws = m.scheme.bits === 8 ? m.scales[n] : m.scales[n * m.nGroups + Math.floor((b * ACT_BLOCK) / m.scheme.groupSize)];
        acc += isum * a.d[s * nb + b] * ws;
      }
      y[s * N + n] = acc;
    }
  }
  return y;
}

/** Row n of a quantized matrix as integers: int8 q, or int4 q - zero; zero past K. */
function weightRowInts(m: QuantizedMatrix, n: number, out: Int32Array): void {
  out.fill(0);
  const K = m.cols;
  if (m.scheme.bits === 8) {
    for (let kk = 0; kk < K; kk++) out[kk] = m.data[n * K + kk];
    return;
  }
  const g = m.scheme.groupSize;
  if (g % ACT_BLOCK !== 0) throw new Error(`internal: int4 group size ${g} is not a multiple of the activation block ${ACT_BLOCK}`);
  const base = n * int4RowBytes(K, g);
  for (let kk = 0; kk < K; kk++) {
    const byte = m.data[base + (kk >> 1)];
    const q = kk & 1 ? byte >> 4 : byte & 15;
    out[kk] = q - (m.zeros ? m.zeros[n * m.nGroups + Math.floor(kk / g)] : 8);
  }
}

/** y[s, n] = sum_k x[s, k] * w[n, k] */
export function linear(x: Float32Array, w: Float32Array, S: number, K: number, N: number): Float32Array {
  const y = new Float32Array(S * N);
  for (let n = 0; n < N; n++) {
    const wo = n * K;
    for (let s = 0; s < S; s++) {
      const xo = s * K;
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
      let k = 0;
      for (; k + 3 < K; k += 4) {
        a0 += x[xo + k] * w[wo + k];
        a1 += x[xo + k + 1] * w[wo + k + 1];
        a2 += x[xo + k + 2] * w[wo + k + 2];
        a3 += x[xo + k + 3] * w[wo + k + 3];
      }
      for (; k < K; k++) a0 += x[xo + k] * w[wo + k];
      y[s * N + n] = a0 + a1 + a2 + a3;
    }
  }
  return y;
}

export function rmsNorm(x: Float32Array, w: Float32Array, S: number, H: number, eps: number): Float32Array {
  const y = new Float32Array(S * H);
  for (let s = 0; s < S; s++) {
    let ss = 0;
    for (let i = 0; i < H; i++) ss += x[s * H + i] * x[s * H + i];
    const r = 1 / Math.sqrt(ss / H + eps);
    for (let i = 0; i < H; i++) y[s * H + i] = w[i] * (x[s * H + i] * r);
  }
  return y;
}

export function embedding(table: Float32Array, ids: Int32Array, V: number, H: number): Float32Array {
  const y = new Float32Array(ids.length * H);
  ids.forEach((id, s) => {
    if (id < 0 || id >= V) throw new RangeError(`token id ${id} outside vocabulary of ${V}`);
    y.set(table.subarray(id * H, (id + 1) * H), s * H);
  });
  return y;
}

/** Rotate-half RoPE (transformers' convention): pairs (i, i + d/2) within each head. */
export function rope(x: Float32Array, positions: Int32Array, invFreq: Float32Array, heads: number, headDim: number): Float32Array {
  const S = positions.length;
  const half = headDim / 2;
  const W = heads * headDim;
  const y = new Float32Array(x.length);
  const cos = new Float64Array(half);
  const sin = new Float64Array(half);
  for (let s = 0; s < S; s++) {
    for (let i = 0; i < half; i++) {
      const a = ropeAngle(positions[s], invFreq[i]);
      cos[i] = Math.fround(Math.cos(a));
      sin[i] = Math.fround(Math.sin(a));
    }
    for (let h = 0; h < heads; h++) {
      const o = s * W + h * headDim;
      for (let i = 0; i < half; i++) {
        const x1 = x[o + i];
        const x2 = x[o + i + half];
        y[o + i] = x1 * cos[i] - x2 * sin[i];
        y[o + i + half] = x2 * cos[i] + x1 * sin[i];
      }
    }
  }
  return y;
}

export interface AttentionShape {
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly scale: number;
}

/** Append new k/v rows ([S, kvh*d]) to a cache ([kvh, P, d]) giving [kvh, P+S, d]. */
export function appendCache(past: Float32Array, P: number, rows: Float32Array, rowStride: number, rowOffset: number, S: number, kvHeads: number, d: number): Float32Array {
  const T = P + S;
  const out = new Float32Array(kvHeads * T * d);
  for (let h = 0; h < kvHeads; h++) {
    out.set(past.subarray(h * P * d, (h + 1) * P * d), h * T * d);
    for (let s = 0; s < S; s++) {
      const src = s * rowStride + rowOffset + h * d;
      out.set(rows.subarray(src, src + d), h * T * d + (P + s) * d);
    }
  }
  return out;
}

/** Causal GQA attention of S new queries at positions P..P+S-1 over a [kvh, P+S, d] cache. */
export function attention(q: Float32Array, qStride: number, qOffset: number, keys: Float32Array, values: Float32Array, S: number, P: number, a: AttentionShape): Float32Array {
  const { heads, kvHeads, headDim: d, scale } = a;
  const T = P + S;
  const group = heads / kvHeads;
  const out = new Float32Array(S * heads * d);
  const scores = new Float64Array(T);
  const acc = new Float64Array(d);
  for (let h = 0; h < heads; h++) {
    const kvh = Math.floor(h / group);
    const kBase = kvh * T * d;
    for (let s = 0; s < S; s++) {
      const qo = s * qStride + qOffset + h * d;
      const limit = P + s; // attends keys 0..P+s
      let max = -Infinity;
      for (let t = 0; t <= limit; t++) {
        let dot = 0;
        const ko = kBase + t * d;
        for (let i = 0; i < d; i++) dot += q[qo + i] * keys[ko + i];
        const sc = Math.fround(dot * scale);
        scores[t] = sc;
        if (sc > max) max = sc;
      }
      let sum = 0;
      for (let t = 0; t <= limit; t++) {
        scores[t] = Math.exp(scores[t] - max);
        sum += scores[t];
      }
      acc.fill(0);
      for (let t = 0; t <= limit; t++) {
        const p = scores[t] / sum;
        const vo = kBase + t * d;
        for (let i = 0; i < d; i++) acc[i] += p * values[vo + i];
      }
      const oo = s * heads * d + h * d;
      for (let i = 0; i < d; i++) out[oo + i] = acc[i];
    }
  }
  return out;
}

export function silu(x: Float32Array): Float32Array {
  const y = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = x[i] / (1 + Math.exp(-x[i]));
  return y;
}

export function elementwise(a: Float32Array, b: Float32Array, op: (x: number, y: number) => number): Float32Array {
  const y = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) y[i] = op(a[i], b[i]);
  return y;
}
