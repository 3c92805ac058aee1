// The reference interpreter: executes any IR graph (plain, fused, quantized) in float32.
// It is the oracle every target is checked against, and the reference target's lowering table.

import type { AnyNode, Graph, Value } from '../ir/graph.js';
import { materializeParam, type TensorReader } from '../ir/materialize.js';
import type { OpAttrs, OpKind } from '../ir/ops.js';
import type { QuantizedMatrix } from '../ir/quantized.js';
import * as k from './kernels.js';
import { FLOAT_ACTIVATIONS, type InterpreterOptions } from './kernels.js';

export interface RtTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array | Int32Array;
  /** A quantized weight's own bits (data holds them dequantized), for the int8-activation matmul. */
  readonly quantized?: QuantizedMatrix;
}

type OpImpl<K extends OpKind> = (inputs: readonly RtTensor[], attrs: OpAttrs[K], opts: InterpreterOptions) => RtTensor[];

/** The interpreter's function type per op (the reference target's lowering table is over these). */
export type InterpreterFns = { readonly [K in OpKind]: OpImpl<K> };

/** y = x W^T: float32 weights, or, in int8-activation mode, x quantized per block against W's bits. */
function matmul(x: RtTensor, w: RtTensor, opts: InterpreterOptions): Float32Array {
  if (opts.actQuant === 'int8' && w.quantized) return k.linearInt8Act(f(x), x.shape[0], w.quantized);
  return k.linear(f(x), f(w), x.shape[0], x.shape[1], w.shape[0]);
}

function f(t: RtTensor): Float32Array {
  if (!(t.data instanceof Float32Array)) throw new TypeError('expected a float32 tensor');
  return t.data;
}
function i32(t: RtTensor): Int32Array {
  if (!(t.data instanceof Int32Array)) throw new TypeError('expected an int32 tensor');
  return t.data;
}

function attentionOp(qkv: Float32Array, qStride: number, qOff: number, kOff: number, vOff: number, S: number, pastK: RtTensor, pastV: RtTensor, a: OpAttrs['attention']): RtTensor[] {
  const P = pastK.shape[1];
  const d = a.headDim;
  const keys = k.appendCache(f(pastK), P, qkv, qStride, kOff, S, a.kvHeads, d);
  const values = k.appendCache(f(pastV), P, qkv, qStride, vOff, S, a.kvHeads, d);
  const out = k.attention(qkv, qStride, qOff, keys, values, S, P, a);
  const cacheShape = [a.kvHeads, P + S, d];
  return [{ shape: [S, a.heads * d], data: out }, { shape: cacheShape, data: keys }, { shape: cacheShape, data: values }];
}

/** Every op, no rejections: the oracle runs any graph. */
export const INTERPRETER_OPS: InterpreterFns = {
  embedding: ([table, ids]) => [{ shape: [ids.shape[0], table.shape[1]], data: k.embedding(f(table), i32(ids), table.shape[0], table.shape[1]) }],
  rms_norm: ([x, w], a) => [{ shape: x.shape, data: k.rmsNorm(f(x), f(w), x.shape[0], x.shape[1], a.eps) }],
  linear: ([x, w], _a, o) => [{ shape: [x.shape[0], w.shape[0]], data: matmul(x, w, o) }],
  rope: ([x, pos, inv], a) => [{ shape: x.shape, data: k.rope(f(x), i32(pos), f(inv), a.heads, a.headDim) }],
  attention: ([q, kk, v, pk, pv], a) => {
    // Pack q|k|v side by side so the fused and unfused ops share one code path.
    const S = q.shape[0];
    const qw = q.shape[1];
    const kw = kk.shape[1];
    const stride = qw + 2 * kw;
    const qkv = new Float32Array(S * stride);
    for (let s = 0; s < S; s++) {
      qkv.set(f(q).subarray(s * qw, (s + 1) * qw), s * stride);
      qkv.set(f(kk).subarray(s * kw, (s + 1) * kw), s * stride + qw);
      qkv.set(f(v).subarray(s * kw, (s + 1) * kw), s * stride + qw + kw);
    }
    return attentionOp(qkv, stride, 0, qw, qw + kw, S, pk, pv, a);
  },
  silu: ([x]) => [{ shape: x.shape, data: k.silu(f(x)) }],
  mul: ([a, b]) => [{ shape: a.shape, data: k.elementwise(f(a), f(b), (x, y) => x * y) }],
  add: ([a, b]) => [{ shape: a.shape, data: k.elementwise(f(a), f(b), (x, y) => x + y) }],
  split: ([x], a) => {
    const S = x.shape[0];
    const W = x.shape[1];
    const src = f(x);
    let col = 0;
    return a.sizes.map((n) => {
      const out = new Float32Array(S * n);
      for (let s = 0; s < S; s++) out.set(src.subarray(s * W + col, s * W + col + n), s * n);
      col += n;
      return { shape: [S, n], data: out };
    });
  },
  rope_attention: ([qkv, pos, inv, pk, pv], a) => {
    const S = qkv.shape[0];
    const stride = qkv.shape[1];
    const qw = a.heads * a.headDim;
    const kw = a.kvHeads * a.headDim;
    // Rotate q and k in place of a copy; v passes through unrotated.
    const q = new Float32Array(S * qw);
    const kk = new Float32Array(S * kw);
    const src = f(qkv);
    for (let s = 0; s < S; s++) {
      q.set(src.subarray(s * stride, s * stride + qw), s * qw);
      kk.set(src.subarray(s * stride + qw, s * stride + qw + kw), s * kw);
    }
    const qr = k.rope(q, i32(pos), f(inv), a.heads, a.headDim);
    const kr = k.rope(kk, i32(pos), f(inv), a.kvHeads, a.headDim);
    const packed = new Float32Array(src);
    for (let s = 0; s < S; s++) {
      packed.set(qr.subarray(s * qw, (s + 1) * qw), s * stride);
      packed.set(kr.subarray(s * kw, (s + 1) * kw), s * stride + qw);
    }
    return attentionOp(packed, stride, 0, qw, qw + kw, S, pk, pv, a);
  },
  swiglu: ([gu]) => {
    const S = gu.shape[0];
    const F = gu.shape[1] / 2;
    const x = f(gu);
    const y = new Float32Array(S * F);
    for (let s = 0; s < S; s++) {
      for (let i = 0; i < F; i++) {
        const g = x[s * 2 * F + i];
        y[s * F + i] = (g / (1 + Math.exp(-g))) * x[s * 2 * F + F + i];
      }
    }
    return [{ shape: [S, F], data: y }];
  },
  skip_rms_norm: ([x, r, w], a) => {
    const sum = k.elementwise(f(x), f(r), (p, q) => p + q);
    return [
      { shape: x.shape, data: k.rmsNorm(sum, f(w), x.shape[0], x.shape[1], a.eps) },
      { shape: x.shape, data: sum },
    ];
  },
  rms_norm_linear: ([x, nw, w], a, o) => {
    const n: RtTensor = { shape: x.shape, data: k.rmsNorm(f(x), f(nw), x.shape[0], x.shape[1], a.eps) };
    return [{ shape: [x.shape[0], w.shape[0]], data: matmul(n, w, o) }];
  },
};

export type Observer = (node: AnyNode, inputs: readonly RtTensor[], outputs: readonly RtTensor[]) => void;

export interface ForwardResult {
  /** [S, vocab] */
  readonly logits: Float32Array;
  /** present.{i}.key, present.{i}.value, each [kvh, P+S, d] */
  readonly present: RtTensor[];
}

function runNode(node: AnyNode, inputs: readonly RtTensor[], opts: InterpreterOptions): RtTensor[] {
  // The mapped table ties each op to its attrs; indexing by a union needs this one widening.
  const impl = INTERPRETER_OPS[node.op] as OpImpl<typeof node.op>;
  return impl(inputs, node.attrs as never, opts);
}

export class ReferenceModel {
  private readonly weights = new Map<number, RtTensor>();

  constructor(
    readonly graph: Graph,
    private readonly reader: TensorReader,
    /** Kernel options: float activations (default) or int8 activations as the NEON/WGSL q8 kernels. */
    readonly opts: InterpreterOptions = FLOAT_ACTIVATIONS,
  ) {}

  private weight(v: Value): RtTensor {
    let t = this.weights.get(v.id);
    if (!t) {
      const shape = v.type.shape.map((d) => Number(d));
      const quantized = v.param?.kind === 'quantized' ? v.param.matrix : undefined;
      t = { shape, data: materializeParam(v, this.reader), ...(quantized ? { quantized } : {}) };
      this.weights.set(v.id, t);
    }
    return t;
  }

  /** Run the graph: ids at `positions`, with per-layer past k/v ([kvh, P, d] each; P may be 0). */
  forward(ids: Int32Array, positions: Int32Array, past: readonly RtTensor[], observe?: Observer): ForwardResult {
    const g = this.graph;
    const env = new Map<number, RtTensor>();
    env.set(g.inputs[0].id, { shape: [ids.length], data: ids });
    env.set(g.inputs[1].id, { shape: [positions.length], data: positions });
    if (past.length !== g.inputs.length - 2) throw new Error(`expected ${g.inputs.length - 2} past tensors, got ${past.length}`);
    past.forEach((t, i) => env.set(g.inputs[i + 2].id, t));
    const get = (v: Value): RtTensor => {
      if (v.param) return this.weight(v);
      const t = env.get(v.id);
      if (!t) throw new Error(`internal: value ${v.name} not computed`);
      return t;
    };
    for (const node of g.nodes) {
      const ins = node.inputs.map(get);
      const outs = runNode(node, ins, this.opts);
      outs.forEach((t, i) => env.set(node.outputs[i].id, t));
      observe?.(node, ins, outs);
    }
    const [logits, ...present] = g.outputs.map(get);
    return { logits: f(logits), present };
  }

  emptyCache(): RtTensor[] {
    const { numLayers, numKvHeads, headDim } = this.graph.info;
    const empty: RtTensor = { shape: [numKvHeads, 0, headDim], data: new Float32Array(0) };
    return Array.from({ length: 2 * numLayers }, () => empty);
  }
}

/** Prefill then decode token by token, carrying the KV cache between calls. */
export class KvSession {
  private cache: RtTensor[];
  private position = 0;

  constructor(private readonly model: ReferenceModel) {
    this.cache = model.emptyCache();
  }

  /** Prefill ids at positions start.. with the current cache (empty at first). Returns [S, vocab]. */
  prefill(ids: readonly number[], start = this.position, observe?: Observer): Float32Array {
    const pos = Int32Array.from(ids, (_, i) => start + i);
    const r = this.model.forward(Int32Array.from(ids), pos, this.cache, observe);
    this.cache = r.present;
    this.position = start + ids.length;
    return r.logits;
  }

  /** One decode step; returns the logits row [vocab]. */
  step(token: number): Float32Array {
    return this.prefill([token]);
  }
}
