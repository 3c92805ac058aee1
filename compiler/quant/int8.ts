// Weight-only int8, per output channel, symmetric: q in -127..127, value = q * scale.

import type { QuantizedMatrix, ScaleDtype } from '../ir/quantized.js';
import { checkShape, storedScale } from './int4.js';

export interface Int8Options {
  /** Default 'f16'. */
  readonly scaleDtype?: ScaleDtype;
}

/** Quantizes rows [0, rows) of W into data (Int8Array [rows, cols]) and scales ([rows]). */
export function quantizeInt8Rows(W: Float32Array, rows: number, cols: number, scaleDtype: ScaleDtype, data: Int8Array, scales: Float32Array): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let amax = 0;
    for (let k = 0; k < cols; k++) {
      const a = Math.abs(W[base + k]);
      if (!(a < Infinity)) throw new Error('int8: non-finite weight');
      if (a > amax) amax = a;
    }
    // The stored (rounded) scale is what we divide by, so q is nearest for the shipped scale;
    // f16 rounding may shrink s slightly, hence the clamp.
    const s = amax === 0 ? 0 : storedScale(amax / 127, scaleDtype);
    scales[r] = s;
    if (s === 0) {
      data.fill(0, base, base + cols);
      continue;
    }
    const inv = 1 / s;
    for (let k = 0; k < cols; k++) {
      const q = Math.round(W[base + k] * inv);
      data[base + k] = q > 127 ? 127 : q < -127 ? -127 : q;
    }
  }
}

export function quantizeInt8(W: Float32Array, N: number, K: number, opts: Int8Options = {}): QuantizedMatrix {
  checkShape(W, N, K);
  const scaleDtype = opts.scaleDtype ?? 'f16';
  const data = new Int8Array(N * K);
  const scales = new Float32Array(N);
  quantizeInt8Rows(W, N, K, scaleDtype, data, scales);
  return {
    scheme: { bits: 8, groupSize: K, symmetric: true, scaleDtype, method: 'rtn' },
    rows: N,
    cols: K,
    nGroups: 1,
    data,
    scales,
    zeros: null,
  };
}
