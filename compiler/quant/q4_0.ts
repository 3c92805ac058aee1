// llama.cpp's Q4_0, bit-exact with ggml's quantize_row_q4_0_ref:
//   per block of 32: amax = max |x|, max = the first value with |max| = amax,
//   d = max / -8 (f32), id = d ? 1/d : 0 (f32), q = min(15, (int8_t)(x*id + 8.5f)), d stored as f16.
// The levels and the f16 d are identical to ggml's; only the nibble order differs (ggml packs
// j and j+16 in one byte, our layout packs k and k+1, low nibble = even k).
//
// Ragged K: the last partial block is quantized as if zero-padded to 32 (which is what ggml
// does to a row zero-padded to a multiple of 32). Zeros do not change amax/max, and a zero
// quantizes to (int8_t)(0*id + 8.5) = 8 = the symmetric zero, so the padding nibbles are 8,
// exactly the padding the layout requires.

import { f16BitsToF32, f32ToF16Bits } from '../ir/half.js';
import { groupsPerRow, int4RowBytes } from '../ir/quantized.js';
import type { QuantizedMatrix } from '../ir/quantized.js';
import { checkShape, putNibble } from './int4.js';

export const QK4_0 = 32;
const fr = Math.fround;

/** Quantizes rows [0, rows) of W into packed data and f16-valued scales ([rows, nGroups]). */
export function quantizeQ4_0Rows(W: Float32Array, rows: number, cols: number, data: Uint8Array, scales: Float32Array): void {
  const nGroups = groupsPerRow(cols, QK4_0);
  const rowBytes = int4RowBytes(cols, QK4_0);
  for (let r = 0; r < rows; r++) {
    const wBase = r * cols;
    const dBase = r * rowBytes;
    for (let b = 0; b < nGroups; b++) {
      const k0 = b * QK4_0;
      const len = Math.min(QK4_0, cols - k0);
      let amax = 0;
      let max = 0;
      for (let j = 0; j < len; j++) {
        const v = W[wBase + k0 + j];
        if (!(Math.abs(v) < Infinity)) throw new Error('q4_0: non-finite weight');
        if (amax < Math.abs(v)) {
          amax = Math.abs(v);
          max = v;
        }
      }
      const d = fr(max / -8);
      const id = d !== 0 ? fr(1 / d) : 0;
      scales[r * nGroups + b] = f16BitsToF32(f32ToF16Bits(d));
      for (let j = 0; j < QK4_0; j++) {
        let q = 8;
        if (j < len) {
          // (int8_t) truncates toward zero; x*id + 8.5 is >= 0.5 here, so trunc == floor.
          q = Math.trunc(fr(fr(W[wBase + k0 + j] * id) + 8.5));
          if (q > 15) q = 15;
        }
        putNibble(data, dBase, k0 + j, q);
      }
    }
  }
}

export function quantizeQ4_0(W: Float32Array, N: number, K: number): QuantizedMatrix {
  checkShape(W, N, K);
  const nGroups = groupsPerRow(K, QK4_0);
  const data = new Uint8Array(N * int4RowBytes(K, QK4_0));
  const scales = new Float32Array(N * nGroups);
  quantizeQ4_0Rows(W, N, K, data, scales);
  return {
    scheme: { bits: 4, groupSize: QK4_0, symmetric: true, scaleDtype: 'f16', method: 'q4_0' },
    rows: N,
    cols: K,
    nGroups,
    data,
    scales,
    zeros: null,
  };
}
