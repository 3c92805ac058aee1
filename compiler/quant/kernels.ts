// One entry point for "quantize these rows": the code the worker runs and the in-thread
// fallback runs, so both produce the same bytes.

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

function intZeros(buf: Int4Buffers): ChunkResult {
  if (buf.zeros instanceof Float32Array) throw new Error('quant: float zero points cannot go through the pool');
  return { data: buf.data, scales: buf.scales, zeros: buf.zeros };
}

/** Quantizes W [rows, K] (a row chunk) according to spec. */
export function runChunk(spec: ChunkSpec, W: Float32Array, rows: number, K: number): ChunkResult {
  switch (spec.kind) {
    case 'int8': {
      const data = new Int8Array(rows * K);
      const scales = new Float32Array(rows);
      quantizeInt8Rows(W, rows, K, spec.scaleDtype, data, scales);
      return { data, scales, zeros: null };
    }
    case 'int4': {
      const buf = allocInt4(rows, K, spec.cfg);
      quantizeInt4Rows(W, rows, K, spec.cfg, buf, spec.colWeights);
      return intZeros(buf);
    }
    case 'q4_0': {
      const data = new Uint8Array(rows * int4RowBytes(K, QK4_0));
      const scales = new Float32Array(rows * groupsPerRow(K, QK4_0));
      quantizeQ4_0Rows(W, rows, K, data, scales);
      return { data, scales, zeros: null };
    }
    case 'gptq': {
      const buf = allocInt4(rows, K, spec.cfg);
      gptqRows(W, rows, K, spec.hessian, spec.cfg, spec.blockSize, buf, spec.colWeights);
      return intZeros(buf);
    }
  }
}
