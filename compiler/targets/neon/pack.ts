// kernels-arm's packed weight layout (kernels-arm/README.md, "Repacked layouts"), produced from the
// plain layout of compiler/ir/quantized.ts. Byte-identical to the C reference packers in
// kernels-arm/src/pack.c (pack.test.ts checks that on ragged shapes and every weight type), so the
// artifact's weights.bin is mmapped and run as is: the runtime never repacks.

import { f16BitsToF32, f32ToF16Bits } from '../../ir/half.js';
import { groupsPerRow, int4RowBytes, type QuantizedMatrix } from '../../ir/quantized.js';

/** Rows per panel and the activation block along K (LK_NR, LK_KB in kernels-arm/include/lk.h). */
export const NR = 8;
export const KB = 32;
const Q4_BLOCK_BYTES = 128;
const Q8_HEADER_BYTES = 32;
const Q8_BLOCK_BYTES = 256;

/** lk_wtype in kernels-arm/include/lk.h. */
export const enum WType {
  Q4 = 0,
  Q8 = 1,
  F16 = 2,
  F32 = 3,
}

/** The fields of lk_matrix the runtime rebuilds from weights.bin (it checks `bytes` against them). */
export interface PackedMatrix {
  readonly type: WType;
  readonly N: number;
  readonly K: number;
  /** q4 group size; KB for q8; K for floats (as lk_pack_* set it). */
  readonly G: number;
  readonly sym: boolean;
  readonly scaleF16: boolean;
  readonly bytes: Uint8Array;
}

function panels(N: number): number {
  return Math.ceil(N / NR);
}

/** Byte size of a packed matrix: what the runtime recomputes to refuse a short or forged table entry. */
export function packedBytes(type: WType, N: number, K: number, G: number, sym: boolean, scaleF16: boolean): number {
  switch (type) {
    case WType.Q4: {
      const hdr = NR * (scaleF16 ? 2 : 4) + (sym ? 0 : NR * 4);
      return panels(N) * groupsPerRow(K, G) * (hdr + (G / KB) * Q4_BLOCK_BYTES);
    }
    case WType.Q8:
      return panels(N) * (Q8_HEADER_BYTES + Math.ceil(K / KB) * Q8_BLOCK_BYTES);
    case WType.F16:
      return panels(N) * NR * K * 2;
    case WType.F32:
      return panels(N) * NR * K * 4;
  }
}

/** int4 from the plain layout (any group size 32/64/128, zero points or symmetric, f16 or f32 scales). */
export function packQ4(m: QuantizedMatrix): PackedMatrix {
  const { rows: N, cols: K, nGroups: ng } = m;
  const G = m.scheme.groupSize;
  if (m.scheme.bits !== 4 || (G !== 32 && G !== 64 && G !== 128)) throw new Error(`internal: packQ4 needs int4 with groups of 32/64/128, got ${m.scheme.bits}-bit g${G}`);
  const sym = m.zeros === null;
  const sf16 = m.scheme.scaleDtype === 'f16';
  const sBytes = NR * (sf16 ? 2 : 4);
  const hdr = sBytes + (sym ? 0 : NR * 4);
  const groupBytes = hdr + (G / KB) * Q4_BLOCK_BYTES;
  const panelBytes = ng * groupBytes;
  const out = new Uint8Array(panels(N) * panelBytes);
  const dv = new DataView(out.buffer);
  const rowBytes = int4RowBytes(K, G);
  const data = m.data as Uint8Array;
  for (let n = 0; n < N; n++) {
    const panel = Math.floor(n / NR) * panelBytes;
    const r = n % NR;
    const rowOff = (r >> 1) * 32 + (r & 1) * 8;
    for (let g = 0; g < ng; g++) {
      const gh = panel + g * groupBytes;
      const scale = m.scales[n * ng + g];
      if (sf16) dv.setUint16(gh + 2 * r, f32ToF16Bits(scale), true);
      else dv.setFloat32(gh + 4 * r, scale, true);
      // the offset m = (8 - zero) * scale, rounded to float32 like the C packer's float product
      if (!sym) dv.setFloat32(gh + sBytes + 4 * r, Math.fround((8 - m.zeros![n * ng + g]) * (sf16 ? f16BitsToF32(f32ToF16Bits(scale)) : scale)), true);
      const base = n * rowBytes + (g * G) / 2;
      for (let kk = 0; kk < G; kk += 2) {
        const byte = data[base + kk / 2];
        for (let j = 0; j < 2; j++) {
          const q = j ? byte >> 4 : byte & 15;
          const kb = (kk + j) % KB;
          const c = kb >> 3;
          const off = gh + hdr + Math.floor((kk + j) / KB) * Q4_BLOCK_BYTES + rowOff + (c & 1) * 16 + (kb & 7);
          // stored as q ^ 8 (the signed nibble q - 8); chunks 2, 3 in the high nibble
          out[off] |= ((q ^ 8) & 15) << (c >= 2 ? 4 : 0);
        }
      }
    }
  }
  return { type: WType.Q4, N, K, G, sym, scaleF16: sf16, bytes: out };
}

/** int8 per channel; scales are widened to f32 in the panel header (as lk_pack_q8 does). */
export function packQ8(m: QuantizedMatrix): PackedMatrix {
  const { rows: N, cols: K } = m;
  if (m.scheme.bits !== 8) throw new Error(`internal: packQ8 needs int8, got ${m.scheme.bits}-bit`);
  const nb = Math.ceil(K / KB);
  const panelBytes = Q8_HEADER_BYTES + nb * Q8_BLOCK_BYTES;
  const out = new Uint8Array(panels(N) * panelBytes);
  const dv = new DataView(out.buffer);
  const data = m.data as Int8Array;
  for (let n = 0; n < N; n++) {
    const panel = Math.floor(n / NR) * panelBytes;
    const r = n % NR;
    dv.setFloat32(panel + 4 * r, m.scales[n], true);
    const rowOff = panel + Q8_HEADER_BYTES + (r >> 1) * 64 + (r & 1) * 8;
    for (let k = 0; k < K; k++) {
      const kb = k % KB;
      out[rowOff + Math.floor(k / KB) * Q8_BLOCK_BYTES + (kb >> 3) * 16 + (kb & 7)] = data[n * K + k] & 0xff;
    }
  }
  return { type: WType.Q8, N, K, G: KB, sym: true, scaleF16: false, bytes: out };
}

/** f16 or f32 dense [N, K] (float32 numbers; f16 rounds to nearest even): panels stored k-major. */
export function packFloat(w: Float32Array, N: number, K: number, dtype: 'f16' | 'f32'): PackedMatrix {
  if (w.length !== N * K) throw new Error(`internal: packFloat got ${w.length} values for [${N}, ${K}]`);
  const es = dtype === 'f16' ? 2 : 4;
  const panelBytes = NR * K * es;
  const out = new Uint8Array(panels(N) * panelBytes);
  const dv = new DataView(out.buffer);
  for (let n = 0; n < N; n++) {
    const base = Math.floor(n / NR) * panelBytes + (n % NR) * es;
    for (let k = 0; k < K; k++) {
      const o = base + k * NR * es;
      if (es === 2) dv.setUint16(o, f32ToF16Bits(w[n * K + k]), true);
      else dv.setFloat32(o, w[n * K + k], true);
    }
  }
  return { type: dtype === 'f16' ? WType.F16 : WType.F32, N, K, G: K, sym: true, scaleF16: false, bytes: out };
}

/** Any weight the IR holds: its plain quantized matrix, or float32 numbers stored as f16/f32. */
export function packMatrix(w: QuantizedMatrix | Float32Array, N: number, K: number, floatDtype: 'f16' | 'f32'): PackedMatrix {
  if (w instanceof Float32Array) return packFloat(w, N, K, floatDtype);
  if (w.rows !== N || w.cols !== K) throw new Error(`internal: quantized matrix is [${w.rows}, ${w.cols}], expected [${N}, ${K}]`);
  return w.scheme.bits === 4 ? packQ4(w) : packQ8(w);
}
