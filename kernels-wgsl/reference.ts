// Float32 TypeScript references for every kernel (accumulating in JS doubles), and random test data
// in the compiler's plain quantized layout.
import { roundToF16 } from '../compiler/ir/half.js';
import { dequantize, int4RowBytes, type QuantizedMatrix, type QuantScheme } from '../compiler/ir/quantized.js';

export { rng } from '../compiler/random.js';

export function randomF32(r: () => number, n: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (r() * 2 - 1) * scale;
  return out;
}

/** A valid QuantizedMatrix of random values (K padding holds q = zero, as the contract says). */
export function randomQuantized(r: () => number, rows: number, cols: number, scheme: QuantScheme): QuantizedMatrix {
  const rnd = (v: number): number => (scheme.scaleDtype === 'f16' ? roundToF16(v) : Math.fround(v));
  if (scheme.bits === 8) {
    const data = new Int8Array(rows * cols);
    for (let i = 0; i < data.length; i++) data[i] = Math.floor(r() * 255) - 127;
    const scales = new Float32Array(rows);
    for (let i = 0; i < rows; i++) scales[i] = rnd(0.002 + r() * 0.01);
    return { scheme, rows, cols, nGroups: 1, data, scales, zeros: null };
  }
  const g = scheme.groupSize;
  const nGroups = Math.ceil(cols / g);
  const rowBytes = int4RowBytes(cols, g);
  const data = new Uint8Array(rows * rowBytes);
  const scales = new Float32Array(rows * nGroups);
  const zeros = scheme.symmetric ? null : new Uint8Array(rows * nGroups);
  for (let i = 0; i < scales.length; i++) scales[i] = rnd(0.01 + r() * 0.05);
  if (zeros) for (let i = 0; i < zeros.length; i++) zeros[i] = Math.floor(r() * 16);
  for (let n = 0; n < rows; n++) {
    for (let k = 0; k < nGroups * g; k++) {
      const zero = zeros ? zeros[n * nGroups + Math.floor(k / g)] : 8;
      const q = k < cols ? Math.floor(r() * 16) : zero;
      data[n * rowBytes + (k >> 1)] |= q << ((k & 1) * 4);
    }
  }
  return { scheme, rows, cols, nGroups, data, scales, zeros };
}

/** y = W x with W [N, K] float. */
export function refGemv(w: Float32Array, N: number, K: number, x: Float32Array): Float32Array {
  const y = new Float32Array(N);
  for (let n = 0; n < N; n++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += w[n * K + k] * x[k];
    y[n] = s;
  }
  return y;
}

/** Round half to even (WGSL round()). */
function roundEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d !== 0.5) return Math.round(v);
  return f % 2 === 0 ? f : f + 1;
}

/**
 * x [K] as int8 per block of 32 (quant_x.wgsl): d = max|x| / 127, q = round(x * (127 / max|x|))
 * in f32, ties to even, clamped to +-127; blocks zero-padded past K. `ties` marks the k whose
 * scaled value lies within 1e-4 of a .5 boundary (a GPU division one ulp off may round those the
 * other way).
 */
export function refQuantizeX(x: Float32Array): { q: Int8Array; d: Float32Array; sum: Int32Array; ties: Uint8Array } {
  const blocks = Math.ceil(x.length / 32);
  const q = new Int8Array(blocks * 32);
  const d = new Float32Array(blocks);
  const sum = new Int32Array(blocks);
  const ties = new Uint8Array(blocks * 32);
  for (let b = 0; b < blocks; b++) {
    let amax = 0;
    for (let k = b * 32; k < Math.min(x.length, b * 32 + 32); k++) amax = Math.max(amax, Math.abs(x[k]));
    d[b] = Math.fround(amax / 127);
    const inv = amax > 0 ? Math.fround(127 / amax) : 0;
    for (let k = b * 32; k < Math.min(x.length, b * 32 + 32); k++) {
      const v = Math.fround(x[k] * inv);
      q[k] = Math.max(-127, Math.min(127, roundEven(v)));
      sum[b] += q[k];
      ties[k] = Math.abs(Math.abs(v - Math.trunc(v)) - 0.5) < 1e-4 ? 1 : 0;
    }
  }
  return { q, d, sum, ties };
}

/** x as gemv_q8 sees it: q * d per block (exact in double). */
export function dequantizedX(q: Int8Array, d: Float32Array, K: number): Float32Array {
  const x = new Float32Array(K);
  for (let k = 0; k < K; k++) x[k] = q[k] * d[k >> 5];
  return x;
}

/** Y [M, N] = X [M, K] W^T. */
export function refGemm(w: Float32Array, N: number, K: number, x: Float32Array, M: number): Float32Array {
  const y = new Float32Array(M * N);
  for (let m = 0; m < M; m++) y.set(refGemv(w, N, K, x.subarray(m * K, (m + 1) * K)), m * N);
  return y;
}

export function dequantized(m: QuantizedMatrix): Float32Array {
  return dequantize(m);
}

export function refRmsNorm(x: Float32Array, rows: number, n: number, weight: Float32Array, eps: number): Float32Array {
  const y = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++) {
    let ss = 0;
    for (let i = 0; i < n; i++) ss += x[r * n + i] ** 2;
    const inv = 1 / Math.sqrt(ss / n + eps);
    for (let i = 0; i < n; i++) y[r * n + i] = x[r * n + i] * inv * weight[i];
  }
  return y;
}

export function refSoftmax(x: Float32Array, rows: number, n: number): Float32Array {
  const y = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++) {
    let mx = -Infinity;
    for (let i = 0; i < n; i++) mx = Math.max(mx, x[r * n + i]);
    let s = 0;
    for (let i = 0; i < n; i++) s += Math.exp(x[r * n + i] - mx);
    for (let i = 0; i < n; i++) y[r * n + i] = Math.exp(x[r * n + i] - mx) / s;
  }
  return y;
}

/** Llama 3 RoPE inverse frequencies (rope_type 'llama3' when `scaling` is given). */
export function ropeInvFreq(
  headDim: number,
  theta: number,
  scaling?: { factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositions: number },
): Float32Array {
  const half = headDim / 2;
  const out = new Float32Array(half);
  for (let i = 0; i < half; i++) {
    let f = 1 / theta ** ((2 * i) / headDim);
    if (scaling) {
      const lowWl = scaling.originalMaxPositions / scaling.lowFreqFactor;
      const highWl = scaling.originalMaxPositions / scaling.highFreqFactor;
      const wl = (2 * Math.PI) / f;
      if (wl > lowWl) f = f / scaling.factor;
      else if (wl >= highWl) {
        const smooth = (scaling.originalMaxPositions / wl - scaling.lowFreqFactor) / (scaling.highFreqFactor - scaling.lowFreqFactor);
        f = (1 - smooth) * (f / scaling.factor) + smooth * f;
      }
    }
    out[i] = f;
  }
  return out;
}

/** HF rotate_half RoPE on x [T, H, D] at positions pos[T]. */
export function refRope(x: Float32Array, T: number, H: number, D: number, pos: Uint32Array, invFreq: Float32Array): Float32Array {
  const y = new Float32Array(x.length);
  const half = D / 2;
  for (let t = 0; t < T; t++) {
    for (let h = 0; h < H; h++) {
      const b = (t * H + h) * D;
      for (let i = 0; i < half; i++) {
        const a = pos[t] * invFreq[i];
        const c = Math.cos(a);
        const s = Math.sin(a);
        const x0 = x[b + i];
        const x1 = x[b + i + half];
        y[b + i] = x0 * c - x1 * s;
        y[b + i + half] = x1 * c + x0 * s;
      }
    }
  }
  return y;
}

export function refSwiglu(gate: Float32Array, up: Float32Array): Float32Array {
  const y = new Float32Array(gate.length);
  for (let i = 0; i < y.length; i++) y[i] = (gate[i] / (1 + Math.exp(-gate[i]))) * up[i];
  return y;
}

export function refAdd(a: Float32Array, b: Float32Array): Float32Array {
  const y = new Float32Array(a.length);
  for (let i = 0; i < y.length; i++) y[i] = a[i] + b[i];
  return y;
}

/** Index of the largest value; ties go to the lowest index. */
export function refArgmax(x: Float32Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}

/**
 * Attention with GQA for queries q [T, Hq, D] at positions past..past+T-1 over keys/values
 * k, v [S, Hkv, D] (S = past + T, causal). Decode is T = 1.
 */
export function refAttention(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  T: number,
  S: number,
  Hq: number,
  Hkv: number,
  D: number,
  scale: number,
): Float32Array {
  const out = new Float32Array(T * Hq * D);
  const past = S - T;
  const group = Hq / Hkv;
  for (let t = 0; t < T; t++) {
    for (let h = 0; h < Hq; h++) {
      const kvh = Math.floor(h / group);
      const n = past + t + 1;
      const sc = new Float64Array(n);
      let mx = -Infinity;
      for (let s = 0; s < n; s++) {
        let d = 0;
        for (let i = 0; i < D; i++) d += q[(t * Hq + h) * D + i] * k[(s * Hkv + kvh) * D + i];
        sc[s] = d * scale;
        mx = Math.max(mx, sc[s]);
      }
      let sum = 0;
      for (let s = 0; s < n; s++) sum += (sc[s] = Math.exp(sc[s] - mx));
      for (let i = 0; i < D; i++) {
        let o = 0;
        for (let s = 0; s < n; s++) o += sc[s] * v[(s * Hkv + kvh) * D + i];
        out[(t * Hq + h) * D + i] = o / sum;
      }
    }
  }
  return out;
}

/** Largest |a - b| relative to max(|b|) — the error measure every test bounds. */
export function relMaxErr(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let err = 0;
  let mag = 1e-30;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    err = Math.max(err, Number.isNaN(d) ? Infinity : d);
    mag = Math.max(mag, Math.abs(b[i]));
  }
  return err / mag;
}
