// The plain quantized-weight layout shared by the quantizer, the reference interpreter and every
// target's packer (ONNX MatMulNBits, NEON repacking, WGSL u32 packing). Targets repack from this;
// they never re-quantize, so every target runs the very bits the oracle runs.
//
// A weight W has shape [N, K] (N output features, K input features, as in nn.Linear).
//
// int4: groups of `groupSize` along K; nGroups = ceil(K / groupSize) (the last group may be ragged).
//   q in 0..15, value = (q - zero) * scale.
//   symmetric: zero is 8 for every group (q - 8 spans -8..7), `zeros` is null.
//   asymmetric: one zero per group in 0..15 (`zeros`, one byte each, [N, nGroups]).
//   data: Uint8Array [N, nGroups * groupSize / 2], two values per byte, LOW nibble = even k
//   (ONNX MatMulNBits' order). K is padded to nGroups * groupSize with q = zero, so padding
//   dequantizes to exactly 0.
// int8: per output channel, symmetric: q in -127..127 (as int8 bytes), value = q * scale;
//   data: Int8Array [N, K]; nGroups = 1; groupSize = K.
// scales: Float32Array [N, nGroups]; when scaleDtype is 'f16' every entry is already rounded to f16,
//   so the f32 array and the emitted f16 bytes denote the same numbers.
//
// llama.cpp's Q4_0 is int4, symmetric, groupSize 32, f16 scales, with d = signed max / -8:
// the same layout, only the scale choice differs (`method: 'q4_0'`).

export type QuantBits = 4 | 8;
export type ScaleDtype = 'f16' | 'f32';
export type QuantMethod = 'rtn' | 'search' | 'q4_0' | 'gptq' | 'awq';

export interface QuantScheme {
  readonly bits: QuantBits;
  /** Group length along K (int8 per-channel uses K itself). */
  readonly groupSize: number;
  readonly symmetric: boolean;
  readonly scaleDtype: ScaleDtype;
  /** How the values were chosen; informational for reports, the layout is the same. */
  readonly method: QuantMethod;
}

export interface QuantizedMatrix {
  readonly scheme: QuantScheme;
  readonly rows: number; // N
  readonly cols: number; // K
  readonly nGroups: number;
  /** int4: packed nibbles [rows, nGroups*groupSize/2]; int8: Int8Array [rows, cols]. */
  readonly data: Uint8Array | Int8Array;
  /** [rows, nGroups] */
  readonly scales: Float32Array;
  /** asymmetric int4 only: [rows, nGroups], each 0..15. */
  readonly zeros: Uint8Array | null;
}

export function groupsPerRow(cols: number, groupSize: number): number {
  return Math.ceil(cols / groupSize);
}

/** Bytes per row of packed int4 data (K padded to whole groups). */
export function int4RowBytes(cols: number, groupSize: number): number {
  return (groupsPerRow(cols, groupSize) * groupSize) / 2;
}

/** Dequantize one row into out[0..cols). The definition every kernel is tested against. */
export function dequantizeRow(m: QuantizedMatrix, row: number, out: Float32Array): void {
  const { cols, nGroups, scheme } = m;
  const g = scheme.groupSize;
  if (scheme.bits === 8) {
    const data = m.data as Int8Array;
    const s = m.scales[row];
    const base = row * cols;
    for (let k = 0; k < cols; k++) out[k] = data[base + k] * s;
    return;
  }
  const data = m.data as Uint8Array;
  const rowBytes = int4RowBytes(cols, g);
  const base = row * rowBytes;
  for (let k = 0; k < cols; k++) {
    const grp = (k / g) | 0;
    const byte = data[base + (k >> 1)];
    const q = k & 1 ? byte >> 4 : byte & 15;
    const zero = m.zeros ? m.zeros[row * nGroups + grp] : 8;
    out[k] = (q - zero) * m.scales[row * nGroups + grp];
  }
}

/** Dequantize the whole matrix to float32 [rows, cols]. */
export function dequantize(m: QuantizedMatrix): Float32Array {
  const out = new Float32Array(m.rows * m.cols);
  for (let r = 0; r < m.rows; r++) dequantizeRow(m, r, out.subarray(r * m.cols, (r + 1) * m.cols));
  return out;
}

/** Storage bits per weight: data + scales + zeros, over rows*cols real weights. */
export function bitsPerWeight(m: QuantizedMatrix): number {
  const scaleBytes = m.scales.length * (m.scheme.scaleDtype === 'f16' ? 2 : 4);
  const zeroBits = m.zeros ? m.zeros.length * 4 : 0;
  return (m.data.byteLength * 8 + scaleBytes * 8 + zeroBits) / (m.rows * m.cols);
}
