import { describe, expect, it } from 'vitest';
import { roundToF16 } from '../ir/half.js';
import { dequantize, groupsPerRow, int4RowBytes } from '../ir/quantized.js';
import type { QuantizedMatrix } from '../ir/quantized.js';
import { awqScales, scaleColumns, scaleHessian } from './awq.js';
import { HessianAccumulator, prepareGptq, quantizeGptq } from './gptq.js';
import { dequantizeFloatZero, quantizeInt4 } from './int4.js';
import { gaussian, gaussianArray } from './random.js';

// GPTQ must cut the held-out output error of the same-format search quantizer by at least this.
const GPTQ_VS_SEARCH_OUTPUT = 0.8;

/** Correlated activations: a few shared latent factors plus noise, and some loud channels. */
function correlatedX(rows: number, K: number, seed: number): Float32Array {
  const g = gaussian(seed);
  const F = 4;
  const mix = gaussianArray(F * K, 1000 + K); // fixed mixing: calibration and eval share the distribution
  const X = new Float32Array(rows * K);
  const f = new Float64Array(F);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < F; j++) f[j] = g();
    for (let k = 0; k < K; k++) {
      let v = 0.3 * g();
      for (let j = 0; j < F; j++) v += f[j] * mix[j * K + k];
      X[r * K + k] = v * (k % 16 === 3 ? 6 : 1);
    }
  }
  return X;
}

/** ||X Wᵀ − X Ŵᵀ||² */
function outputErr(X: Float32Array, rows: number, W: Float32Array, m: QuantizedMatrix): number {
  return outputErrOf(X, rows, W, dequantize(m), m.rows, m.cols);
}

/** Sum of squared output differences X (W - D)^T over `rows` rows of X, D the weights as run. */
function outputErrOf(X: Float32Array, rows: number, W: Float32Array, D: Float32Array, N: number, K: number): number {
  let e = 0;
  for (let r = 0; r < rows; r++) {
    for (let n = 0; n < N; n++) {
      let acc = 0;
      for (let k = 0; k < K; k++) acc += X[r * K + k] * (W[n * K + k] - D[n * K + k]);
      e += acc * acc;
    }
  }
  return e;
}

function hessianOf(X: Float32Array, rows: number, K: number): Float64Array {
  const acc = new HessianAccumulator(K);
  acc.addRows(X, rows, K);
  return acc.hessian();
}

describe('HessianAccumulator', () => {
  it('equals Σ x xᵀ and per-channel means, for any row count', () => {
    const K = 7;
    const rows = 11; // not a multiple of the 4-row fast path
    const X = gaussianArray(rows * K, 20);
    const acc = new HessianAccumulator(K);
    acc.addRows(X.subarray(0, 5 * K), 5, K);
    acc.addRows(X.subarray(5 * K), 6, K);
    expect(acc.count).toBe(rows);
    const H = acc.hessian();
    for (let i = 0; i < K; i++) {
      for (let j = 0; j < K; j++) {
        let s = 0;
        for (let r = 0; r < rows; r++) s += X[r * K + i] * X[r * K + j];
        expect(H[i * K + j]).toBeCloseTo(s, 10);
      }
      let a = 0;
      let q = 0;
      for (let r = 0; r < rows; r++) {
        a += Math.abs(X[r * K + i]);
        q += X[r * K + i] ** 2;
      }
      expect(acc.meanAbs()[i]).toBeCloseTo(a / rows, 5);
      expect(acc.meanSquare()[i]).toBeCloseTo(q / rows, 5);
    }
    expect(() => acc.addRows(X, 1, K + 1)).toThrow(/K=/);
  });
});

describe('GPTQ', () => {
  const N = 48;
  const K = 160; // 5 groups of 32
  const W = gaussianArray(N * K, 21, 0.05);
  const calib = correlatedX(512, K, 22);
  const heldOut = correlatedX(256, K, 23); // evaluation data is never calibration data
  const H = hessianOf(calib, 512, K);

  for (const actOrder of [false, true]) {
    it(`beats RTN and search on held-out output error (actOrder=${actOrder})`, () => {
      const rtn = outputErr(heldOut, 256, W, quantizeInt4(W, N, K, { method: 'rtn' }));
      const srch = outputErr(heldOut, 256, W, quantizeInt4(W, N, K));
      const m = quantizeGptq(W, N, K, H, { actOrder });
      const gptq = outputErr(heldOut, 256, W, m);
      expect(m.scheme).toEqual({ bits: 4, groupSize: 32, symmetric: false, scaleDtype: 'f16', method: 'gptq' });
      expect(srch).toBeLessThan(rtn);
      expect(gptq).toBeLessThan(GPTQ_VS_SEARCH_OUTPUT * srch);
    });
  }

  it('float zero points: GPTQ also beats the float-zero search on held-out output error', () => {
    const fzSearch = quantizeInt4(W, N, K, { zeroPoint: 'float' });
    const fzGptq = quantizeGptq(W, N, K, H, { zeroPoint: 'float' });
    expect(fzGptq.zeros).toBeInstanceOf(Float32Array);
    const err = (d: Float32Array): number => outputErrOf(heldOut, 256, W, d, N, K);
    expect(err(dequantizeFloatZero(fzGptq))).toBeLessThan(GPTQ_VS_SEARCH_OUTPUT * err(dequantizeFloatZero(fzSearch)));
  });

  it('emits the exact int4 layout: f16 scales, zeros in range, ragged padding at the zero', () => {
    const Kr = 172;
    const Wr = gaussianArray(16 * Kr, 24, 0.05);
    const Xr = correlatedX(300, Kr, 25);
    for (const symmetric of [false, true]) {
      const m = quantizeGptq(Wr, 16, Kr, hessianOf(Xr, 300, Kr), { symmetric, actOrder: true });
      const nG = groupsPerRow(Kr, 32);
      expect(m.nGroups).toBe(nG);
      expect(m.data.length).toBe(16 * int4RowBytes(Kr, 32));
      expect(m.zeros === null).toBe(symmetric);
      for (const s of m.scales) expect(roundToF16(s)).toBe(s);
      if (m.zeros) for (const z of m.zeros) expect(z).toBeLessThanOrEqual(15);
      const data = m.data as Uint8Array;
      for (let r = 0; r < 16; r++) {
        const zero = m.zeros ? m.zeros[r * nG + nG - 1] : 8;
        for (let k = Kr; k < nG * 32; k++) {
          const byte = data[r * int4RowBytes(Kr, 32) + (k >> 1)];
          expect(k & 1 ? byte >> 4 : byte & 15).toBe(zero);
        }
      }
      // GPTQ trades weight error for output error, but stays a sane quantization of W.
      const d = dequantize(m);
      let e = 0;
      let s = 0;
      for (let i = 0; i < Wr.length; i++) {
        e += (Wr[i] - d[i]) ** 2;
        s += Wr[i] ** 2;
      }
      expect(Math.sqrt(e / s)).toBeLessThan(0.25);
    }
  });

  for (const Ks of [37, 64]) {
    it(`prepareGptq: U is the upper Cholesky factor of (H + λI)⁻¹ (K=${Ks}, act-order)`, () => {
      const X = correlatedX(200, Ks, 27);
      const Hs = hessianOf(X, 200, Ks);
      const prep = prepareGptq(Hs, Ks, { actOrder: true });
      const { U, perm, damp } = prep;
      // Permuted damped H times UᵀU must be the identity; U's lower triangle is unused.
      const u = (i: number, j: number): number => (j >= i ? U[i * Ks + j] : 0);
      let maxErr = 0;
      for (let i = 0; i < Ks; i++) {
        expect(U[i * Ks + i]).toBeGreaterThan(0);
        for (let j = 0; j < Ks; j++) {
          let acc = 0;
          for (let m = 0; m < Ks; m++) {
            const h = Hs[perm[i] * Ks + perm[m]] + (i === m ? damp : 0);
            let inv = 0;
            for (let t = 0; t <= Math.min(m, j); t++) inv += u(t, m) * u(t, j);
            acc += h * inv;
          }
          maxErr = Math.max(maxErr, Math.abs(acc - (i === j ? 1 : 0)));
        }
      }
      expect(maxErr).toBeLessThan(1e-8);
      for (let i = 1; i < Ks; i++) expect(Hs[perm[i - 1] * Ks + perm[i - 1]]).toBeGreaterThanOrEqual(Hs[perm[i] * Ks + perm[i]]);
    });
  }

  it('dead input channels (diag H = 0) quantize to exactly 0 and do not break the factorization', () => {
    const X = correlatedX(256, K, 26);
    for (let r = 0; r < 256; r++) {
      X[r * K + 5] = 0;
      X[r * K + 100] = 0;
    }
    const Hd = hessianOf(X, 256, K);
    const prep = prepareGptq(Hd, K);
    expect(prep.dead[5]).toBe(1);
    expect(prep.dead[100]).toBe(1);
    const m = quantizeGptq(W, N, K, prep);
    const d = dequantize(m);
    for (let n = 0; n < N; n++) {
      expect(d[n * K + 5]).toBe(0);
      expect(d[n * K + 100]).toBe(0);
    }
    for (const v of d) expect(Number.isFinite(v)).toBe(true);
  });

  it('a prepared Hessian gives the same bytes as the raw one, and K mismatches are rejected', () => {
    const a = quantizeGptq(W, N, K, H, { actOrder: true });
    const b = quantizeGptq(W, N, K, prepareGptq(H, K, { actOrder: true }));
    expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(true);
    expect(Array.from(a.scales)).toEqual(Array.from(b.scales));
    expect(() => quantizeGptq(W.subarray(0, N * 32), N, 32, prepareGptq(H, K))).toThrow(/K=/);
  });

  it('scale refit never raises the damped calibration objective, and lowers it overall', () => {
    const prep = prepareGptq(H, K, { refit: true });
    expect(prep.Hd).not.toBeNull();
    const plain = quantizeGptq(W, N, K, H, { refit: false });
    const refit = quantizeGptq(W, N, K, prep);
    // Same levels, only scales may change.
    expect(Buffer.from(refit.data).equals(Buffer.from(plain.data))).toBe(true);
    const Hd = prep.Hd as Float64Array;
    const obj = (m: QuantizedMatrix, n: number): number => {
      const d = dequantize(m);
      let f = 0;
      for (let i = 0; i < K; i++) {
        let t = 0;
        for (let j = 0; j < K; j++) t += Hd[i * K + j] * (W[n * K + j] - d[n * K + j]);
        f += (W[n * K + i] - d[n * K + i]) * t;
      }
      return f;
    };
    let before = 0;
    let after = 0;
    for (let n = 0; n < N; n++) {
      const a = obj(plain, n);
      const b = obj(refit, n);
      expect(b).toBeLessThanOrEqual(a * (1 + 1e-9));
      before += a;
      after += b;
    }
    expect(after).toBeLessThan(before);
    for (const s of refit.scales) expect(roundToF16(s)).toBe(s);
  });

  it('block size changes the schedule, not the math (up to rounding)', () => {
    const a = dequantize(quantizeGptq(W, N, K, H, { actOrder: false, blockSize: 128 }));
    const b = dequantize(quantizeGptq(W, N, K, H, { actOrder: false, blockSize: 32 }));
    let diff = 0;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) diff++;
    expect(diff / a.length).toBeLessThan(0.01);
  });
});

describe('AWQ scale search', () => {
  it('finds alpha > 0 on salient channels, lowers held-out output error, and folds exactly', () => {
    const N = 32;
    const K = 128;
    const W = gaussianArray(N * K, 30, 0.05);
    const calib = correlatedX(256, K, 31);
    const heldOut = correlatedX(256, K, 32);
    const acc = new HessianAccumulator(K);
    acc.addRows(calib, 256, K);
    const res = awqScales(W, N, K, acc.meanAbs(), calib, { xRows: 128, maxRows: 128 });
    expect(res.alpha).toBeGreaterThan(0);
    expect(res.err).toBeLessThan(res.baseErr);
    const plain = outputErr(heldOut, 256, W, quantizeInt4(W, N, K));
    // Quantize W·s; at run time the input is x/s, which we emulate by dividing Ŵ's columns by s.
    const q = quantizeInt4(scaleColumns(W, N, K, res.scales), N, K);
    const d = dequantize(q);
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) d[n * K + k] /= res.scales[k];
    expect(outputErrOf(heldOut, 256, W, d, N, K)).toBeLessThan(plain);
    // H of x/s is diag(1/s) H diag(1/s).
    const H = acc.hessian();
    const Hs = scaleHessian(H, K, res.scales);
    expect(Hs[3 * K + 7]).toBeCloseTo(H[3 * K + 7] / (res.scales[3] * res.scales[7]), 8);
  });

  it('without sample rows uses the diagonal proxy and still never does worse than alpha 0', () => {
    const W = gaussianArray(16 * 64, 33);
    const m = new Float32Array(64).map((_, k) => (k < 4 ? 20 : 1));
    const res = awqScales(W, 16, 64, m);
    expect(res.err).toBeLessThanOrEqual(res.baseErr);
    expect(res.scales.length).toBe(64);
  });
});
