// Float32 reference semantics of every op. Products are summed in float64 and stored as float32:
// this is the oracle, so accuracy beats speed (it still runs the small models in seconds).

import { ropeAngle } from '../frontend/rope.js';

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
