// One entry point for "quantize these rows": the code the worker runs and the in-thread
// fallback runs, so both produce the same bytes.
//
// Rows come either as float32 (W) or straight from the checkpoint file (StoredRows): then the
// chunk is read, NaN/Inf-checked, decoded bf16 -> f32 and quantized one cache-sized block of rows
// at a time, so the float32 image of a matrix never exists and each value is touched while hot.

import { closeSync } from 'node:fs';
import { openForRead, readRowsInto } from '../checkpoint/safetensors.js';
import type { StoredRows } from '../ir/materialize.js';
import { groupsPerRow, int4RowBytes } from '../ir/quantized.js';
import type { ScaleDtype } from '../ir/quantized.js';
import { gptqRows } from './gptq.js';
import type { GptqHessian } from './gptq.js';
import { allocInt4, quantizeInt4Rows } from './int4.js';
import type { Int4Buffers, Int4Config } from './int4.js';
import { quantizeInt8Rows } from './int8.js';
import { QK4_0, quantizeQ4_0Rows } from './q4_0.js';

/** What a chunk of rows needs; plain data so it can be posted to a worker. */
export type ChunkSpec =
  | { readonly kind: 'int8'; readonly scaleDtype: ScaleDtype }
  | { readonly kind: 'int4'; readonly cfg: Int4Config; readonly colWeights: Float32Array | null }
  | { readonly kind: 'q4_0' }
  | {
      readonly kind: 'gptq';
      readonly cfg: Int4Config;
      readonly blockSize: number;
      readonly hessian: GptqHessian;
      readonly colWeights: Float32Array | null;
    };

export interface ChunkResult {
  readonly data: Uint8Array | Int8Array;
  readonly scales: Float32Array;
  readonly zeros: Uint8Array | null;
}

/** Float32 values per block when reading from the file: 256 KiB, with its bf16 bytes well inside L2. */
export const BLOCK_VALUES = 1 << 16;

function allocChunk(spec: ChunkSpec, rows: number, K: number): ChunkResult {
  switch (spec.kind) {
    case 'int8':
      return { data: new Int8Array(rows * K), scales: new Float32Array(rows), zeros: null };
    case 'q4_0':
      return { data: new Uint8Array(rows * int4RowBytes(K, QK4_0)), scales: new Float32Array(rows * groupsPerRow(K, QK4_0)), zeros: null };
    case 'int4':
    case 'gptq': {
      if (spec.cfg.zeroPoint === 'float') throw new Error('quant: float zero points cannot go through the pool');
      return allocInt4(rows, K, spec.cfg) as ChunkResult;
    }
  }
}

/** Quantizes W [rows, K] into out's rows [r0, r0 + rows). */
function quantizeInto(spec: ChunkSpec, W: Float32Array, rows: number, K: number, out: ChunkResult, r0: number): void {
  const { bytes, perRow } = rowGeometry(spec, K);
  const data = out.data.subarray(r0 * bytes, (r0 + rows) * bytes);
  const scales = out.scales.subarray(r0 * perRow, (r0 + rows) * perRow);
  switch (spec.kind) {
    case 'int8':
      quantizeInt8Rows(W, rows, K, spec.scaleDtype, data as Int8Array, scales);
      return;
    case 'q4_0':
      quantizeQ4_0Rows(W, rows, K, data as Uint8Array, scales);
      return;
    case 'int4':
    case 'gptq': {
      const buf: Int4Buffers = { data: data as Uint8Array, scales, zeros: out.zeros ? out.zeros.subarray(r0 * perRow, (r0 + rows) * perRow) : null };
      if (spec.kind === 'int4') quantizeInt4Rows(W, rows, K, spec.cfg, buf, spec.colWeights);
      else gptqRows(W, rows, K, spec.hessian, spec.cfg, spec.blockSize, buf, spec.colWeights);
    }
  }
}

/** Output bytes and scales per row. */
function rowGeometry(spec: ChunkSpec, K: number): { bytes: number; perRow: number } {
  if (spec.kind === 'int8') return { bytes: K, perRow: 1 };
  const g = spec.kind === 'q4_0' ? QK4_0 : spec.cfg.groupSize;
  return { bytes: int4RowBytes(K, g), perRow: groupsPerRow(K, g) };
}

/** Quantizes W [rows, K] (a row chunk) according to spec. */
export function runChunk(spec: ChunkSpec, W: Float32Array, rows: number, K: number): ChunkResult {
  const out = allocChunk(spec, rows, K);
  quantizeInto(spec, W, rows, K, out, 0);
  return out;
}

/** Rows [row0, row0 + rows) of stacked stored tensors, as the parts that hold them. */
export function sliceStored(parts: readonly StoredRows[], row0: number, rows: number): StoredRows[] {
  const out: StoredRows[] = [];
  let base = 0;
  for (const p of parts) {
    const lo = Math.max(row0, base);
    const hi = Math.min(row0 + rows, base + p.rows);
    if (hi > lo) out.push({ tensor: p.tensor, rowStart: p.rowStart + (lo - base), rows: hi - lo });
    base += p.rows;
  }
  return out;
}

/** Reusable block buffers, one set per thread. */
let blockF32 = new Float32Array(0);
let blockBytes = new Uint8Array(0);

/**
 * Quantizes rows [row0, row0 + rows) of stored tensors stacked along rows (each [*, K]), reading
 * them from their files block by block. Same bytes as runChunk on the decoded float32 rows.
 */
export function runStoredChunk(spec: ChunkSpec, parts: readonly StoredRows[], row0: number, rows: number, K: number): ChunkResult {
  if (spec.kind === 'gptq') throw new Error('internal: GPTQ chunks take float32 rows');
  const blockRows = Math.max(1, Math.floor(BLOCK_VALUES / K));
  if (blockF32.length < blockRows * K) blockF32 = new Float32Array(blockRows * K);
  if (blockBytes.length < blockRows * K * 4) blockBytes = new Uint8Array(blockRows * K * 4);
  const out = allocChunk(spec, rows, K);
  const fds = new Map<string, number>();
  try {
    let r = 0;
    for (const p of sliceStored(parts, row0, rows)) {
      if (p.tensor.shape[1] !== K) throw new Error(`internal: ${p.tensor.name} has ${p.tensor.shape[1]} columns, expected ${K}`);
      let fd = fds.get(p.tensor.file);
      if (fd === undefined) {
        fd = openForRead(p.tensor.file);
        fds.set(p.tensor.file, fd);
      }
      for (let done = 0; done < p.rows; ) {
        const n = Math.min(blockRows, p.rows - done);
        const W = blockF32.subarray(0, n * K);
        readRowsInto(fd, p.tensor, p.rowStart + done, n, W, blockBytes);
        quantizeInto(spec, W, n, K, out, r);
        r += n;
        done += n;
      }
    }
  } finally {
    for (const fd of fds.values()) closeSync(fd);
  }
  return out;
}
