// weights.bin (runtime/lc_format.h, version 1): header, tensor table, slot widths and op list, then
// every tensor in kernels-arm's packed layout at a 64-byte aligned offset. Tensors are read, packed
// and written one at a time, so a 3B checkpoint compiles in the memory of its largest tensor.

import { closeSync, openSync, writeSync } from 'node:fs';
import type { Value } from '../../ir/graph.js';
import { materializeParam, type TensorReader } from '../../ir/materialize.js';
import { MAX_CHUNK, VEC, type Program } from './lower.js';
import { packMatrix } from './pack.js';

export const MAGIC = 'LLAMACNE';
export const FORMAT_VERSION = 1;
const HEADER_BYTES = 128;
const TENSOR_BYTES = 48;
const OP_BYTES = 96;
const ALIGN = 64;

export interface WeightsOptions {
  readonly maxSeq: number;
  readonly kvDtype: 'f16' | 'f32';
  readonly floatDtype: 'f16' | 'f32';
}

const align = (n: number, a: number): number => Math.ceil(n / a) * a;

/** Layout of the file: where each section and tensor goes. */
export function layout(p: Program): { tensorsOffset: number; slotsOffset: number; opsOffset: number; offsets: number[]; fileBytes: number } {
  const tensorsOffset = HEADER_BYTES;
  const slotsOffset = tensorsOffset + p.tensors.length * TENSOR_BYTES;
  const opsOffset = align(slotsOffset + p.slots.length * 4, 8);
  let at = align(opsOffset + p.ops.length * OP_BYTES, ALIGN);
  const offsets = p.tensors.map((t) => {
    const o = at;
    at = align(o + t.bytes, ALIGN);
    return o;
  });
  return { tensorsOffset, slotsOffset, opsOffset, offsets, fileBytes: at };
}

function tables(p: Program, o: WeightsOptions): { head: Buffer; offsets: number[]; fileBytes: number } {
  const L = layout(p);
  const head = Buffer.alloc(L.offsets.length ? L.offsets[0] : L.fileBytes);
  head.write(MAGIC, 0, 'latin1');
  let w = 8;
  const u32 = (v: number): void => {
    head.writeUInt32LE(v, w);
    w += 4;
  };
  const u64 = (v: number): void => {
    head.writeBigUInt64LE(BigInt(v), w);
    w += 8;
  };
  u32(FORMAT_VERSION);
  u32(HEADER_BYTES);
  u64(L.fileBytes);
  [p.tensors.length, p.slots.length, p.ops.length, p.layers, p.vocab, p.kvHeads, p.headDim, o.maxSeq, o.kvDtype === 'f16' ? 1 : 0, MAX_CHUNK, 0, 0].forEach(u32);
  u64(L.tensorsOffset);
  u64(L.slotsOffset);
  u64(L.opsOffset);
  w = L.tensorsOffset;
  p.tensors.forEach((t, i) => {
    [t.type, t.N, t.K, t.G, t.sym ? 1 : 0, t.scaleF16 ? 1 : 0].forEach(u32);
    u64(L.offsets[i]);
    u64(t.bytes);
    u64(0);
  });
  w = L.slotsOffset;
  p.slots.forEach(u32);
  w = L.opsOffset;
  for (const op of p.ops) {
    const start = w;
    u32(op.code);
    for (let i = 0; i < 5; i++) {
      const v = op.views[i];
      [v?.slot ?? 0, v?.ld ?? 0, v?.off ?? 0].forEach(u32);
    }
    for (let i = 0; i < 3; i++) u32(op.tensors[i] ?? 0);
    for (let i = 0; i < 4; i++) {
      head.writeInt32LE(op.ints[i] ?? 0, w);
      w += 4;
    }
    head.writeFloatLE(op.f, w);
    w += 4;
    if (w - start !== OP_BYTES) throw new Error('internal: op record size');
  }
  return { head, offsets: L.offsets, fileBytes: L.fileBytes };
}

function tensorBytes(v: Value, type: number, N: number, K: number, reader: TensorReader, o: WeightsOptions): Uint8Array {
  if (type === VEC) {
    const data = materializeParam(v, reader);
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  const src = v.param;
  const w = src?.kind === 'quantized' ? src.matrix : materializeParam(v, reader);
  return packMatrix(w, N, K, o.floatDtype).bytes;
}

/** Write weights.bin; returns its size. */
export function writeWeights(path: string, p: Program, reader: TensorReader, o: WeightsOptions): number {
  const { head, offsets, fileBytes } = tables(p, o);
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, head, 0, head.length, 0);
    p.tensors.forEach((t, i) => {
      const bytes = tensorBytes(t.value, t.type, t.N, t.K, reader, o);
      if (bytes.length !== t.bytes) throw new Error(`internal: ${t.value.name} packed to ${bytes.length} bytes, the table says ${t.bytes}`);
      writeSync(fd, bytes, 0, bytes.length, offsets[i]);
      const end = offsets[i] + bytes.length;
      const next = i + 1 < offsets.length ? offsets[i + 1] : fileBytes;
      if (next > end) writeSync(fd, Buffer.alloc(next - end), 0, next - end, end);
    });
  } finally {
    closeSync(fd);
  }
  return fileBytes;
}
