// The int8-activation matmul (the reference for the NEON / WGSL q8 kernels) against a scalar
// calculation written out by hand, element by element, on ragged shapes (K not a multiple of 32).

import { describe, expect, it } from 'vitest';
import type { QuantizedMatrix } from '../ir/quantized.js';
import { dequantizeRow } from '../ir/quantized.js';
import { quantizeInt4 } from '../quant/int4.js';
import { quantizeInt8 } from '../quant/int8.js';
import { linearInt8Act, quantizeActivationsInt8, roundHalfEven } from './kernels.js';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  };
}

function randomMatrix(n: number, scale: number, seed: number): Float32Array {
  const r = seeded(seed);
  return Float32Array.from({ length: n }, () => scale * r());
}

/**
 * The rule written out for one value, as kernels-arm's quant_act_scalar reads: amax of the block
 * of 32 containing k (values past K count as 0), q = rint(f32(x * f32(127 / amax))), d = f32(amax / 127).
 */
function handQuant(row: Float32Array, k: number): { q: number; d: number } {
  const b0 = Math.floor(k / 32) * 32;
  let amax = 0;
  for (let i = b0; i < b0 + 32 && i < row.length; i++) if (Math.abs(row[i]) > amax) amax = Math.abs(row[i]);
  if (amax === 0) return { q: 0, d: 0 };
  const inv = Math.fround(127 / amax);
  const v = Math.fround(row[k] * inv);
  // rint: nearest, ties to the even neighbour.
  let q = Math.floor(v);
  const frac = v - q;
  if (frac > 0.5 || (frac === 0.5 && q % 2 !== 0)) q += 1;
  return { q, d: Math.fround(amax / 127) };
}

/** y[s, n] = sum_k dequant(W)[n, k] * q(x)[s, k] * d(x)[s, block(k)], in float64, one element at a time. */
function handLinear(x: Float32Array, S: number, K: number, m: QuantizedMatrix): Float32Array {
  const y = new Float32Array(S * m.rows);
  const w = new Float32Array(K);
  for (let n = 0; n < m.rows; n++) {
    dequantizeRow(m, n, w);
    for (let s = 0; s < S; s++) {
      const row = x.subarray(s * K, (s + 1) * K);
      let acc = 0;
      for (let k = 0; k < K; k++) {
        const { q, d } = handQuant(row, k);
        acc += w[k] * q * d;
      }
      y[s * m.rows + n] = acc;
    }
  }
  return y;
}

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(a[i]));
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
  }
  return diff / scale;
}

describe('int8 activation quantization', () => {
  it('rounds half to even, like rintf / vcvtnq / WGSL round', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999, 2.5001].map((v) => roundHalfEven(v) + 0)).toEqual([0, 2, 2, 0, -2, -2, 2, 3]);
  });

  it('per block of 32 along K: the scale is max|x|/127, ties go to even, the ragged tail and an all-zero block are exact', () => {
    const K = 70; // blocks of 32, 32 and a ragged 6
    const x = new Float32Array(K);
    // Block 0: amax 127 makes inv exactly 1, so x itself is the scaled value: ties at .5.
    x.set([127, 2.5, 3.5, -2.5, -3.5, 0.5, 1.25], 0);
    // Block 1 stays zero. Block 2 (ragged): amax 0.25.
    x.set([0.25, -0.125, 0.1], 64);
    const a = quantizeActivationsInt8(x, 1, K);
    expect(a.nBlocks).toBe(3);
    expect(Array.from(a.q.subarray(0, 7))).toEqual([127, 2, 4, -2, -4, 0, 1]);
    expect(a.d[0]).toBe(1);
    expect(Array.from(a.q.subarray(32, 64)).every((v) => v === 0)).toBe(true);
    expect(a.d[1]).toBe(0);
    expect(Array.from(a.q.subarray(64, 67))).toEqual([127, roundHalfEven(Math.fround(-0.125 * Math.fround(127 / 0.25))), roundHalfEven(Math.fround(Math.fround(0.1) * Math.fround(127 / 0.25)))]);
    expect(a.d[2]).toBe(Math.fround(0.25 / 127));
    expect(Array.from(a.q.subarray(67, 96)).every((v) => v === 0)).toBe(true); // padding past K
    for (let k = 0; k < K; k++) expect(a.q[k], `k=${k}`).toBe(handQuant(x, k).q);
  });
});

describe('linear with int8 activations against the hand calculation', () => {
  const shapes: [number, number, number][] = [
    [1, 45, 7], // one token, K = 32 + 13
    [3, 77, 5], // three tokens, K = 2*32 + 13
    [2, 130, 9], // K spans two int4 groups of 64 and a ragged third
  ];
  const schemes: { name: string; quantize: (w: Float32Array, n: number, k: number) => QuantizedMatrix }[] = [
    { name: 'int8 per channel', quantize: (w, n, k) => quantizeInt8(w, n, k) },
    { name: 'int4 asymmetric g32', quantize: (w, n, k) => quantizeInt4(w, n, k, { groupSize: 32, symmetric: false, method: 'rtn' }) },
    { name: 'int4 symmetric g32', quantize: (w, n, k) => quantizeInt4(w, n, k, { groupSize: 32, symmetric: true, method: 'rtn' }) },
    { name: 'int4 asymmetric g64', quantize: (w, n, k) => quantizeInt4(w, n, k, { groupSize: 64, symmetric: false, method: 'rtn' }) },
  ];
  for (const sc of schemes) {
    it.each(shapes)(`${sc.name}: S=%i K=%i N=%i`, (S, K, N) => {
      const m = sc.quantize(randomMatrix(N * K, 2, 7 * K + N), N, K);
      const x = randomMatrix(S * K, 3, 11 * K + S);
      const got = linearInt8Act(x, S, m);
      const want = handLinear(x, S, K, m);
      // Integer sums are exact on both sides; what differs is float64 summation order and the
      // final float32 rounding (1 ulp).
      expect(maxRelDiff(want, got)).toBeLessThan(1e-6);
    });
  }

  it('differs from the float-activation product by the activation rounding, not more', () => {
    const [S, K, N] = [2, 77, 6];
    const m = quantizeInt8(randomMatrix(N * K, 2, 5), N, K);
    const x = randomMatrix(S * K, 3, 6);
    const got = linearInt8Act(x, S, m);
    const w = new Float32Array(K);
    const exact = new Float32Array(S * N);
    for (let n = 0; n < N; n++) {
      dequantizeRow(m, n, w);
      for (let s = 0; s < S; s++) {
        let acc = 0;
        for (let k = 0; k < K; k++) acc += w[k] * x[s * K + k];
        exact[s * N + n] = acc;
      }
    }
    const rel = maxRelDiff(exact, got);
    // Each x moves by at most d/2 = max|x|/254: a relative error of order 1/254 at worst, and
    // clearly non-zero (the mode is on).
    expect(rel).toBeGreaterThan(1e-5);
    expect(rel).toBeLessThan(2e-2);
  });
});
