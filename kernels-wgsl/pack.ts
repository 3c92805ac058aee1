// GPU storage layout for weight matrices, packed from the compiler's plain QuantizedMatrix.
//
// Every kind is read as vec4<u32> "chunks" of CH consecutive k of one row:
//   int4: CH = 32. Word j of a row covers k = 8j..8j+7: byte b holds k = 8j+b in its LOW nibble and
//         k = 8j+4+b in its HIGH nibble (so one shift+mask of vec4(word) yields 4 consecutive k).
//         Rows are K padded to whole groups (padding q = zero, so it dequantizes to 0).
//   int8: CH = 16. Word j byte b = int8 q of k = 4j+b (two's complement); K padded to 16 with 0.
//   f16:  CH = 8.  Word j = f16(k=2j) | f16(k=2j+1) << 16; K padded to 8 with 0.
//   f32:  CH = 4.  One f32 per word; K padded to 4 with 0.
// Scales beside the data, one per (row, group), flat index i = localRow * groupsPerRow + g:
//   f16 scales: two per u32 (element i in half i & 1, low half first) — read with unpack2x16float,
//   so no shader-f16 needed; f32 scales: one f32 per u32. int8 has one group per row.
// Asymmetric int4 zeros: eight 4-bit zeros per u32, element i at bits 4 * (i & 7) of word i >> 3.
// A matrix whose buffers would exceed maxStorageBufferBindingSize is split by rows into shards,
// each with its own buffers; kernels take the shard's first row (rowBase) as a parameter.
import { f32ToF16Bits } from '../compiler/ir/half.js';
import { int4RowBytes, type QuantizedMatrix } from '../compiler/ir/quantized.js';

export type WeightKind = 'int4' | 'int8' | 'f16' | 'f32';
export const KIND_CODE: Record<WeightKind, number> = { int4: 0, int8: 1, f16: 2, f32: 3 };
export const CHUNK_VALUES: Record<WeightKind, number> = { int4: 32, int8: 16, f16: 8, f32: 4 };

export interface PackedShard {
  readonly rowBase: number;
  readonly rows: number;
  /** rows * chunksPerRow * 4 words */
  readonly data: Uint32Array;
  readonly scales: Uint32Array;
  readonly zeros: Uint32Array | null;
}

export interface PackedMatrix {
  readonly kind: WeightKind;
  readonly rows: number;
  readonly cols: number;
  /** int4 group length; int8: the padded row length; floats: 0 (no scales). */
  readonly groupSize: number;
  readonly groupsPerRow: number;
  readonly chunksPerRow: number;
  readonly scaleF16: boolean;
  readonly hasZeros: boolean;
  readonly shards: readonly PackedShard[];
}

export interface PackOptions {
  /** Per-binding byte limit (device.limits.maxStorageBufferBindingSize). */
  readonly maxBindingBytes: number;
}

function shardRows(rows: number, bytesPerRow: number, maxBindingBytes: number): number {
  const fit = Math.floor(maxBindingBytes / Math.max(1, bytesPerRow));
  if (fit < 1) throw new Error(`kernels-wgsl: one row (${bytesPerRow} B) exceeds the binding limit ${maxBindingBytes}`);
  if (fit >= rows) return rows;
  // Keep shard boundaries on 64-row multiples when possible (aligned output offsets, whole workgroups).
  return fit >= 64 ? fit - (fit % 64) : fit;
}

/** Rows per shard for a matrix of this kind and shape under a per-binding byte limit. */
export function shardPlan(kind: WeightKind, rows: number, cols: number, groupSize: number, scaleF16: boolean, maxBindingBytes: number): number[] {
  const CH = CHUNK_VALUES[kind];
  const paddedK = kind === 'int4' ? Math.ceil(cols / groupSize) * groupSize : Math.ceil(cols / CH) * CH;
  const dataRowBytes = (paddedK / CH) * 16;
  const groups = kind === 'int4' ? paddedK / groupSize : kind === 'int8' ? 1 : 0;
  const per = shardRows(rows, Math.max(dataRowBytes, groups * (scaleF16 ? 2 : 4)), maxBindingBytes);
  const out: number[] = [];
  for (let r = 0; r < rows; r += per) out.push(Math.min(per, rows - r));
  return out;
}

function packScales(src: Float32Array, f16: boolean): Uint32Array {
  if (!f16) return new Uint32Array(src.buffer.slice(src.byteOffset, src.byteOffset + src.byteLength));
  const out = new Uint32Array(Math.ceil(src.length / 2));
  for (let i = 0; i < src.length; i++) out[i >> 1] |= f32ToF16Bits(src[i]) << ((i & 1) * 16);
  return out;
}

function packZeros(src: Uint8Array): Uint32Array {
  const out = new Uint32Array(Math.ceil(src.length / 8));
  for (let i = 0; i < src.length; i++) out[i >> 3] |= (src[i] & 15) << ((i & 7) * 4);
  return out;
}

/** Packs the compiler's plain quantized layout (int4 or int8) into the GPU layout above. */
export function packQuantized(m: QuantizedMatrix, opts: PackOptions): PackedMatrix {
  const { rows, cols, nGroups, scheme } = m;
  const scaleF16 = scheme.scaleDtype === 'f16';
  const kind: WeightKind = scheme.bits === 4 ? 'int4' : 'int8';
  const CH = CHUNK_VALUES[kind];
  const paddedK = kind === 'int4' ? nGroups * scheme.groupSize : Math.ceil(cols / CH) * CH;
  const chunksPerRow = paddedK / CH;
  const wordsPerRow = chunksPerRow * 4;
  const groups = kind === 'int4' ? nGroups : 1;
  const hasZeros = kind === 'int4' && m.zeros !== null;
  const scaleBytesPerRow = groups * (scaleF16 ? 2 : 4);
  const perShard = shardRows(rows, Math.max(wordsPerRow * 4, scaleBytesPerRow), opts.maxBindingBytes);
  const shards: PackedShard[] = [];
  const rowBytes = kind === 'int4' ? int4RowBytes(cols, scheme.groupSize) : cols;
  for (let r0 = 0; r0 < rows; r0 += perShard) {
    const n = Math.min(perShard, rows - r0);
    const data = new Uint32Array(n * wordsPerRow);
    const bytes = new Uint8Array(m.data.buffer, m.data.byteOffset, m.data.byteLength);
    for (let r = 0; r < n; r++) {
      const src = (r0 + r) * rowBytes;
      const dst = r * wordsPerRow;
      if (kind === 'int4') {
        // plain: byte k>>1, even k low nibble. GPU: word j, byte b = q(8j+b) | q(8j+4+b) << 4.
        for (let j = 0; j < wordsPerRow; j++) {
          let word = 0;
          for (let b = 0; b < 4; b++) {
            const kLo = 8 * j + b;
            const kHi = kLo + 4;
            const qLo = (bytes[src + (kLo >> 1)] >> ((kLo & 1) * 4)) & 15;
            const qHi = (bytes[src + (kHi >> 1)] >> ((kHi & 1) * 4)) & 15;
            word |= (qLo | (qHi << 4)) << (8 * b);
          }
          data[dst + j] = word >>> 0;
        }
      } else {
        const out8 = new Uint8Array(data.buffer, dst * 4, wordsPerRow * 4);
        out8.set(bytes.subarray(src, src + cols));
      }
    }
    const sc = m.scales.subarray(r0 * groups, (r0 + n) * groups);
    const zeros = hasZeros && m.zeros ? packZeros(m.zeros.subarray(r0 * groups, (r0 + n) * groups)) : null;
    shards.push({ rowBase: r0, rows: n, data, scales: packScales(sc, scaleF16), zeros });
  }
  return {
    kind,
    rows,
    cols,
    groupSize: kind === 'int4' ? scheme.groupSize : paddedK,
    groupsPerRow: groups,
    chunksPerRow,
    scaleF16,
    hasZeros,
    shards,
  };
}

/** Packs a float32 [rows, cols] matrix as f16 (rounded to nearest even) or f32 weights. */
export function packFloat(w: Float32Array, rows: number, cols: number, kind: 'f16' | 'f32', opts: PackOptions): PackedMatrix {
  const CH = CHUNK_VALUES[kind];
  const chunksPerRow = Math.ceil(cols / CH);
  const wordsPerRow = chunksPerRow * 4;
  const perShard = shardRows(rows, wordsPerRow * 4, opts.maxBindingBytes);
  const shards: PackedShard[] = [];
  for (let r0 = 0; r0 < rows; r0 += perShard) {
    const n = Math.min(perShard, rows - r0);
    const data = new Uint32Array(n * wordsPerRow);
    const asF32 = new Float32Array(data.buffer);
    for (let r = 0; r < n; r++) {
      const src = (r0 + r) * cols;
      const dst = r * wordsPerRow;
      if (kind === 'f32') asF32.set(w.subarray(src, src + cols), dst);
      else for (let k = 0; k < cols; k++) data[dst + (k >> 1)] |= f32ToF16Bits(w[src + k]) << ((k & 1) * 16);
    }
    shards.push({ rowBase: r0, rows: n, data, scales: new Uint32Array(0), zeros: null });
  }
  return { kind, rows, cols, groupSize: 0, groupsPerRow: 0, chunksPerRow, scaleF16: false, hasZeros: false, shards };
}

/** Bytes of weights a kernel streams for one full pass over the matrix (data + scales + zeros). */
export function packedBytes(m: PackedMatrix): number {
  let b = 0;
  for (const s of m.shards) b += s.data.byteLength + (m.scaleF16 ? s.rows * m.groupsPerRow * 2 : s.scales.byteLength) + (s.zeros ? Math.ceil((s.rows * m.groupsPerRow) / 2) : 0);
  return b;
}
