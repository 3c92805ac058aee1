// Turning a weight source into float32 numbers. Lazy sources compose (stack, scale) so passes can
// rewrite weights without reading them; only a consumer that needs numbers calls this.

import type { Value, WeightSource } from './graph.js';
import { dequantize } from './quantized.js';
import { elementCount } from './types.js';

/** Reads checkpoint tensors by name (implemented by compiler/checkpoint). */
export interface TensorReader {
  read(name: string): Float32Array;
  /**
   * Where a tensor's bytes are, for consumers that read row blocks themselves (the quantizer's
   * workers, the ONNX writer); optional, absent for readers without a file behind them.
   */
  locate?(name: string): StoredTensor | undefined;
}

/** A tensor stored row-major at a byte offset of a file (a safetensors entry). */
export interface StoredTensor {
  readonly name: string;
  readonly file: string;
  readonly dtype: 'BF16' | 'F16' | 'F32';
  readonly shape: readonly number[];
  readonly offset: number;
}

/** One stretch of rows of a stored tensor. */
export interface StoredRows {
  readonly tensor: StoredTensor;
  readonly rowStart: number;
  readonly rows: number;
}

/**
 * A 2-D weight source as stored rows (a checkpoint tensor, or rows of several stacked), or null
 * when it needs computing (scaled, quantized, constant) or the reader has no files.
 */
export function storedRowsOf(src: WeightSource, reader: TensorReader): StoredRows[] | null {
  if (src.kind === 'checkpoint') {
    const t = reader.locate?.(src.tensor);
    if (!t || t.shape.length !== 2) return null;
    return [{ tensor: t, rowStart: 0, rows: t.shape[0] }];
  }
  if (src.kind === 'concat_rows') {
    const out: StoredRows[] = [];
    for (const p of src.parts) {
      const r = storedRowsOf(p, reader);
      if (!r) return null;
      out.push(...r);
    }
    return out;
  }
  return null;
}

export function materialize(src: WeightSource, reader: TensorReader): Float32Array {
  switch (src.kind) {
    case 'checkpoint':
      return reader.read(src.tensor);
    case 'constant':
      return src.data;
    case 'quantized':
      return dequantize(src.matrix);
    case 'concat_rows': {
      const parts = src.parts.map((p) => materialize(p, reader));
      const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
      let off = 0;
      for (const p of parts) {
        out.set(p, off);
        off += p.length;
      }
      return out;
    }
    case 'scale_cols': {
      const base = materialize(src.base, reader);
      const k = src.colScale.length;
      const out = new Float32Array(base.length);
      for (let i = 0; i < base.length; i++) out[i] = base[i] * src.colScale[i % k];
      return out;
    }
    case 'scale_rows': {
      const base = materialize(src.base, reader);
      const k = base.length / src.rowScale.length;
      const out = new Float32Array(base.length);
      for (let i = 0; i < base.length; i++) out[i] = base[i] * src.rowScale[Math.floor(i / k)];
      return out;
    }
    case 'scale_elems': {
      const base = materialize(src.base, reader);
      const out = new Float32Array(base.length);
      for (let i = 0; i < base.length; i++) out[i] = base[i] * src.elemScale[i];
      return out;
    }
  }
}

/** Materialize a parameter value, checking the element count against its type. */
export function materializeParam(v: Value, reader: TensorReader): Float32Array {
  if (!v.param) throw new Error(`internal: ${v.name} is not a parameter`);
  const data = materialize(v.param, reader);
  const shape = v.type.shape.map((d) => (typeof d === 'number' ? d : NaN));
  const expected = elementCount(shape);
  if (data.length !== expected) throw new Error(`internal: parameter ${v.name} materialized ${data.length} elements, type wants ${expected}`);
  return data;
}
