// Repacking the plain QuantizedMatrix layout (compiler/ir/quantized.ts) into the layouts ONNX ops
// read. Pure byte shuffles: every function keeps the exact quantized values and scales, so the
// artifact runs the bits the reference interpreter runs.

import { LlamacError } from '../../errors.js';
import { int4RowBytes, type QuantizedMatrix } from '../../ir/quantized.js';

export interface MatMulNBitsWeight {
  readonly bits: 4 | 8;
  readonly blockSize: number;
  readonly nBlocks: number;
  /** uint8 [N, nBlocks, blockSize * bits / 8] */
  readonly B: Uint8Array;
  /** float32 [N, nBlocks] */
  readonly scales: Float32Array;
  /** uint8 [N, ceil(nBlocks / 2)], two 4-bit zero points per byte, low nibble first; null = default 8. */
  readonly zeroPoints: Uint8Array | null;
}

function isPow2AtLeast16(n: number): boolean {
  return n >= 16 && (n & (n - 1)) === 0;
}

/** int8 per-channel scales repeat over blocks of this size (MatMulNBits wants a power of two). */
export function int8BlockSize(K: number): number {
  let b = 16;
  while (b < K && b < 128) b *= 2;
  return b;
}

/**
 * com.microsoft MatMulNBits / GatherBlockQuantized form. int4 data is already MatMulNBits' B
 * byte for byte; int8 q in -127..127 becomes q + 128 (default zero point 128) with the channel
 * scale repeated per block, padding q = 0 so it dequantizes to exactly 0.
 */
export function toMatMulNBits(m: QuantizedMatrix, what: string): MatMulNBitsWeight {
  const N = m.rows;
  const K = m.cols;
  if (m.scheme.bits === 4) {
    const G = m.scheme.groupSize;
    if (!isPow2AtLeast16(G)) throw new LlamacError(`${what}: ONNX MatMulNBits needs a group size that is a power of two >= 16, got ${G}`);
    let zeroPoints: Uint8Array | null = null;
    if (m.zeros) {
      const zw = Math.ceil(m.nGroups / 2);
      zeroPoints = new Uint8Array(N * zw);
      for (let n = 0; n < N; n++) {
        for (let g = 0; g < m.nGroups; g++) zeroPoints[n * zw + (g >> 1)] |= m.zeros[n * m.nGroups + g] << (4 * (g & 1));
      }
    }
    const B = m.data instanceof Uint8Array ? m.data : new Uint8Array(m.data.buffer, m.data.byteOffset, m.data.byteLength);
    return { bits: 4, blockSize: G, nBlocks: m.nGroups, B, scales: m.scales, zeroPoints };
  }
  const bs = int8BlockSize(K);
  const nB = Math.ceil(K / bs);
  const rowBytes = nB * bs;
  const B = new Uint8Array(N * rowBytes).fill(128);
  const scales = new Float32Array(N * nB);
  const q = m.data as Int8Array;
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) B[n * rowBytes + k] = q[n * K + k] + 128;
    scales.fill(m.scales[n], n * nB, (n + 1) * nB);
  }
  return { bits: 8, blockSize: bs, nBlocks: nB, B, scales, zeroPoints: null };
}

export interface BlockedDequantWeight {
  /** 'uint4' with zero points, or 'int4' (q - 8, no zero point) for symmetric schemes. */
  readonly signed: boolean;
  /** 4-bit [K, N], row-major, two per byte, low nibble first (ONNX's 4-bit packing). */
  readonly data: Uint8Array;
  /** float32 [nGroups, N] */
  readonly scales: Float32Array;
  /** uint4 [nGroups, N] packed, or null. */
  readonly zeroPoints: Uint8Array | null;
}

/**
 * ai.onnx DequantizeLinear-21 blocked form of an int4 W [N, K], transposed to [K, N] with blocks
 * along axis 0, so `MatMul(x, DequantizeLinear(W))` needs no Transpose (and onnxruntime fuses the
 * pair into MatMulNBits).
 */
export function toBlockedDequant(m: QuantizedMatrix): BlockedDequantWeight {
  if (m.scheme.bits !== 4) throw new Error('internal: blocked DequantizeLinear form is for int4');
  const N = m.rows;
  const K = m.cols;
  const G = m.nGroups;
  const signed = m.zeros === null;
  const data = new Uint8Array(Math.ceil((K * N) / 2));
  const src = m.data as Uint8Array;
  const rowBytes = int4RowBytes(K, m.scheme.groupSize);
  // Symmetric: q - 8 in two's complement is q ^ 8.
  const flip = signed ? 8 : 0;
  for (let n = 0; n < N; n++) {
    const base = n * rowBytes;
    for (let k = 0; k < K; k++) {
      const byte = src[base + (k >> 1)];
      const q = (k & 1 ? byte >> 4 : byte & 15) ^ flip;
      const i = k * N + n;
      data[i >> 1] |= q << (4 * (i & 1));
    }
  }
  const scales = new Float32Array(G * N);
  for (let n = 0; n < N; n++) for (let g = 0; g < G; g++) scales[g * N + n] = m.scales[n * G + g];
  let zeroPoints: Uint8Array | null = null;
  if (m.zeros) {
    zeroPoints = new Uint8Array(Math.ceil((G * N) / 2));
    for (let n = 0; n < N; n++) {
      for (let g = 0; g < G; g++) {
        const i = g * N + n;
        zeroPoints[i >> 1] |= m.zeros[n * G + g] << (4 * (i & 1));
      }
    }
  }
  return { signed, data, scales, zeroPoints };
}

/** One zero point per group, one byte each (8 where the scheme is symmetric). */
export function unpackedZeros(m: QuantizedMatrix): Uint8Array {
  return m.zeros ?? new Uint8Array(m.rows * m.nGroups).fill(8);
}
