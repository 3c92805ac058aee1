// Tensor types of the IR. Shapes may hold symbolic dims (sequence and cache lengths) so one graph
// serves prefill at any length and decode at any cache size.

import type { QuantScheme } from './quantized.js';

export type DType = 'f32' | 'f16' | 'bf16' | 'i32';

/** A dimension: a fixed size, or a symbol such as 'seq', 'past' or 'total' (= past + seq). */
export type Dim = number | string;

export interface TensorType {
  readonly dtype: DType;
  readonly shape: readonly Dim[];
  /** Set on weight parameters stored quantized; dtype is then the dtype it dequantizes to. */
  readonly quant?: QuantScheme;
}

export function tensorType(dtype: DType, shape: readonly Dim[], quant?: QuantScheme): TensorType {
  return quant ? { dtype, shape, quant } : { dtype, shape };
}

export function formatDim(d: Dim): string {
  return typeof d === 'number' ? String(d) : d;
}

export function formatScheme(q: QuantScheme): string {
  const sym = q.symmetric ? 'sym' : 'asym';
  return q.bits === 8 ? `q8[ch,${q.scaleDtype}]` : `q4[g${q.groupSize},${sym},${q.scaleDtype},${q.method}]`;
}

export function formatType(t: TensorType): string {
  const dtype = t.quant ? `${formatScheme(t.quant)}->${t.dtype}` : t.dtype;
  return `${dtype}[${t.shape.map(formatDim).join(',')}]`;
}

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
