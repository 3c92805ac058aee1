// The op set, defined once: inputs, attributes and type inference. The reference interpreter and
// every target implement a Record<OpKind, ...> over these, so the type checker names a missing op.

import { VerifyError } from '../errors.js';
import { formatType, type Dim, type TensorType } from './types.js';

type Empty = Record<string, never>;

export interface AttentionAttrs {
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  /** Softmax scale, 1/sqrt(headDim) for Llama. */
  readonly scale: number;
}

export interface OpAttrs {
  /** table [V, H], ids i32 [S] -> [S, H] */
  embedding: Empty;
  /** x [S, H], weight [H] -> [S, H] */
  rms_norm: { readonly eps: number };
  /** x [S, K], weight [N, K] (dense or quantized) -> [S, N] */
  linear: Empty;
  /** x [S, heads*headDim], positions i32 [S], invFreq [headDim/2] -> rotate-half RoPE */
  rope: { readonly heads: number; readonly headDim: number };
  /** q [S, h*d], k [S, kvh*d], v [S, kvh*d], pastK, pastV [kvh, P, d] -> out [S, h*d], presentK, presentV [kvh, P+S, d] */
  attention: AttentionAttrs;
  silu: Empty;
  mul: Empty;
  add: Empty;
  /** x [S, sum(sizes)] -> one output per size, [S, size_i] (column blocks, in order) */
  split: { readonly sizes: readonly number[] };
  // ---- fused ops, produced by compiler/passes ----
  /** qkv [S, (h+2kvh)*d], positions, invFreq, pastK, pastV -> out, presentK, presentV (RoPE inside) */
  rope_attention: AttentionAttrs;
  /** gateUp [S, 2F] (gate columns first) -> silu(gate) * up [S, F] */
  swiglu: Empty;
  /** x [S, H], residual [S, H], weight [H] -> normed [S, H], sum [S, H] (sum = x + residual) */
  skip_rms_norm: { readonly eps: number };
  /** x [S, H], normWeight [H], weight [N, H] -> logits [S, N] */
  rms_norm_linear: { readonly eps: number };
}

export type OpKind = keyof OpAttrs;

export interface OpDef {
  readonly inputs: readonly string[];
  /** Output names; empty means variadic (split: one per size). */
  readonly outputs: readonly string[];
  readonly infer: (inputs: readonly TensorType[], attrs: unknown) => TensorType[];
}

function fail(msg: string): never {
  throw new VerifyError(msg);
}

function expectRank(t: TensorType, rank: number, what: string): void {
  if (t.shape.length !== rank) fail(`${what}: expected rank ${rank}, got ${formatType(t)}`);
}

function expectDim(a: Dim, b: Dim, what: string): void {
  if (a !== b) fail(`${what}: dim ${String(a)} != ${String(b)}`);
}

function expectFloat(t: TensorType, what: string): void {
  if (t.dtype === 'i32') fail(`${what}: expected a float tensor, got ${formatType(t)}`);
}

/** past + seq as a dim: numbers add, the canonical symbols give 'total'. */
export function addDims(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  if (a === 'past' && b === 'seq') return 'total';
  return `${String(a)}+${String(b)}`;
}

const f32 = (shape: readonly Dim[]): TensorType => ({ dtype: 'f32', shape });

function attentionTypes(q: TensorType, pastK: TensorType, pastV: TensorType, a: AttentionAttrs, what: string): TensorType[] {
  expectRank(pastK, 3, `${what} pastK`);
  expectRank(pastV, 3, `${what} pastV`);
  expectDim(pastK.shape[0], a.kvHeads, `${what} pastK heads`);
  expectDim(pastK.shape[2], a.headDim, `${what} pastK headDim`);
  expectDim(pastV.shape[1], pastK.shape[1], `${what} pastV length`);
  if (a.heads % a.kvHeads !== 0) fail(`${what}: heads ${a.heads} not a multiple of kvHeads ${a.kvHeads}`);
  const total = addDims(pastK.shape[1], q.shape[0]);
  return [f32([q.shape[0], a.heads * a.headDim]), f32([a.kvHeads, total, a.headDim]), f32([a.kvHeads, total, a.headDim])];
}

export const OPS: { readonly [K in OpKind]: OpDef } = {
  embedding: {
    inputs: ['table', 'ids'],
    outputs: ['y'],
    infer: ([table, ids]) => {
      expectRank(table, 2, 'embedding table');
      expectRank(ids, 1, 'embedding ids');
      if (ids.dtype !== 'i32') fail(`embedding ids: expected i32, got ${formatType(ids)}`);
      return [f32([ids.shape[0], table.shape[1]])];
    },
  },
  rms_norm: {
    inputs: ['x', 'weight'],
    outputs: ['y'],
    infer: ([x, w]) => {
      expectRank(x, 2, 'rms_norm x');
      expectRank(w, 1, 'rms_norm weight');
      expectDim(x.shape[1], w.shape[0], 'rms_norm hidden');
      return [f32(x.shape)];
    },
  },
  linear: {
    inputs: ['x', 'weight'],
    outputs: ['y'],
    infer: ([x, w]) => {
      expectRank(x, 2, 'linear x');
      expectRank(w, 2, 'linear weight');
      expectFloat(x, 'linear x');
      expectDim(x.shape[1], w.shape[1], 'linear in_features');
      return [f32([x.shape[0], w.shape[0]])];
    },
  },
  rope: {
    inputs: ['x', 'positions', 'invFreq'],
    outputs: ['y'],
    infer: ([x, pos, inv], attrs) => {
      const a = attrs as OpAttrs['rope'];
      expectRank(x, 2, 'rope x');
      expectDim(x.shape[1], a.heads * a.headDim, 'rope width');
      expectDim(pos.shape[0], x.shape[0], 'rope positions');
      if (pos.dtype !== 'i32') fail(`rope positions: expected i32, got ${formatType(pos)}`);
      expectDim(inv.shape[0], a.headDim / 2, 'rope invFreq');
      return [f32(x.shape)];
    },
  },
  attention: {
    inputs: ['q', 'k', 'v', 'pastK', 'pastV'],
    outputs: ['y', 'presentK', 'presentV'],
    infer: ([q, k, v, pk, pv], attrs) => {
      const a = attrs as AttentionAttrs;
      expectDim(q.shape[1], a.heads * a.headDim, 'attention q width');
      expectDim(k.shape[1], a.kvHeads * a.headDim, 'attention k width');
      expectDim(v.shape[1], a.kvHeads * a.headDim, 'attention v width');
      expectDim(k.shape[0], q.shape[0], 'attention k seq');
      expectDim(v.shape[0], q.shape[0], 'attention v seq');
      return attentionTypes(q, pk, pv, a, 'attention');
    },
  },
  silu: { inputs: ['x'], outputs: ['y'], infer: ([x]) => [f32(x.shape)] },
  mul: {
    inputs: ['a', 'b'],
    outputs: ['y'],
    infer: ([a, b]) => {
      if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) fail(`mul: shapes differ ${formatType(a)} vs ${formatType(b)}`);
      return [f32(a.shape)];
    },
  },
  add: {
    inputs: ['a', 'b'],
    outputs: ['y'],
    infer: ([a, b]) => {
      if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) fail(`add: shapes differ ${formatType(a)} vs ${formatType(b)}`);
      return [f32(a.shape)];
    },
  },
  split: {
    inputs: ['x'],
    outputs: [],
    infer: ([x], attrs) => {
      const a = attrs as OpAttrs['split'];
      expectRank(x, 2, 'split x');
      const total = a.sizes.reduce((p, q) => p + q, 0);
      expectDim(x.shape[1], total, 'split width');
      return a.sizes.map((n) => f32([x.shape[0], n]));
    },
  },
  rope_attention: {
    inputs: ['qkv', 'positions', 'invFreq', 'pastK', 'pastV'],
    outputs: ['y', 'presentK', 'presentV'],
    infer: ([qkv, pos, inv, pk, pv], attrs) => {
      const a = attrs as AttentionAttrs;
      expectRank(qkv, 2, 'rope_attention qkv');
      expectDim(qkv.shape[1], (a.heads + 2 * a.kvHeads) * a.headDim, 'rope_attention qkv width');
      expectDim(pos.shape[0], qkv.shape[0], 'rope_attention positions');
      expectDim(inv.shape[0], a.headDim / 2, 'rope_attention invFreq');
      return attentionTypes(qkv, pk, pv, a, 'rope_attention');
    },
  },
  swiglu: {
    inputs: ['gateUp'],
    outputs: ['y'],
    infer: ([gu]) => {
      expectRank(gu, 2, 'swiglu input');
      const w = gu.shape[1];
      if (typeof w !== 'number' || w % 2 !== 0) fail(`swiglu: width must be even, got ${formatType(gu)}`);
      return [f32([gu.shape[0], w / 2])];
    },
  },
  skip_rms_norm: {
    inputs: ['x', 'residual', 'weight'],
    outputs: ['y', 'sum'],
    infer: ([x, r, w]) => {
      expectRank(x, 2, 'skip_rms_norm x');
      if (x.shape.some((d, i) => d !== r.shape[i])) fail(`skip_rms_norm: shapes differ ${formatType(x)} vs ${formatType(r)}`);
      expectDim(x.shape[1], w.shape[0], 'skip_rms_norm hidden');
      return [f32(x.shape), f32(x.shape)];
    },
  },
  rms_norm_linear: {
    inputs: ['x', 'normWeight', 'weight'],
    outputs: ['y'],
    infer: ([x, nw, w]) => {
      expectRank(x, 2, 'rms_norm_linear x');
      expectDim(x.shape[1], nw.shape[0], 'rms_norm_linear hidden');
      expectDim(x.shape[1], w.shape[1], 'rms_norm_linear in_features');
      return [f32([x.shape[0], w.shape[0]])];
    },
  },
};
