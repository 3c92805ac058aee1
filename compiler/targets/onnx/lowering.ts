// The lowering table: every IR op (plain and fused) as ONNX nodes. Ops that differ between the
// two op flavours go through a Flavour (norms, linear, embedding, RoPE, attention); the rest is
// shared. Activations are [batch, seq, width]; KV caches are [batch, kvHeads, len, headDim].

import type { Value } from '../../ir/graph.js';
import type { AttentionAttrs } from '../../ir/ops.js';
import type { LowerCtx, OnnxLowering } from './context.js';
import { DT } from './proto.js';

/** The ops whose ONNX form depends on --onnx-ops. Each writes to the output names it is given. */
export interface Flavour {
  readonly name: 'ort' | 'standard';
  rmsNorm(cx: LowerCtx, x: string, weight: Value, eps: number, out: string): void;
  /** y = norm(x + residual), sum = x + residual */
  skipRmsNorm(cx: LowerCtx, x: string, residual: string, weight: Value, eps: number, out: string, sum: string): void;
  linear(cx: LowerCtx, x: string, weight: Value, out: string): void;
  embedding(cx: LowerCtx, table: Value, ids: string, out: string): void;
  rope(cx: LowerCtx, x: string, positions: string, invFreq: Value, heads: number, headDim: number, out: string): void;
  attention(cx: LowerCtx, q: string, k: string, v: string, pastK: string, pastV: string, a: AttentionAttrs, outs: readonly [string, string, string]): void;
}

/** Dense y = x W^T via Gemm(transB=1) on 2-D views: W stays [N, K] as in the checkpoint, so a tied embedding is one initializer. */
export function gemmLinear(cx: LowerCtx, x: string, w: string, N: number, K: number, out: string): void {
  const x2 = cx.g.op('Reshape', [x, cx.g.int64([-1, K])], `${out}_in2d`);
  const y2 = cx.g.op('Gemm', [x2, w], `${out}_2d`, { transB: 1 });
  cx.g.node('Reshape', [y2, cx.shape3(N)], [out]);
}

/** Dense embedding: Gather rows (cast after the gather when stored f16). */
export function denseEmbedding(cx: LowerCtx, table: Value, ids: string, out: string): void {
  const t = cx.dense(table, cx.opts.matrixDtype);
  if (cx.opts.matrixDtype === 'f32') {
    cx.g.node('Gather', [t, ids], [out], { axis: 0 });
    return;
  }
  const h = cx.g.op('Gather', [t, ids], `${out}_f16`, { axis: 0 });
  cx.g.node('Cast', [h], [out], { to: DT.float });
}

/** Drops the padding columns a blocked layout adds when the width is not a whole number of blocks. */
export function sliceWidth(cx: LowerCtx, x: string, have: number, want: number, out: string): void {
  if (have === want) throw new Error('internal: nothing to slice');
  cx.g.node('Slice', [x, cx.g.int64([0]), cx.g.int64([want]), cx.g.int64([-1])], [out]);
}

function width(v: Value): number {
  const w = v.type.shape[v.type.shape.length - 1];
  if (typeof w !== 'number') throw new Error(`internal: ${v.name} has a symbolic width`);
  return w;
}

function splitCols(cx: LowerCtx, x: string, sizes: readonly number[], outs: readonly string[]): void {
  cx.g.node('Split', [x, cx.g.int64(sizes)], outs, { axis: -1 });
}

function siluTimes(cx: LowerCtx, gate: string, up: string | null, out: string): void {
  const sig = cx.g.op('Sigmoid', [gate], `${out}_sigmoid`);
  if (up === null) {
    cx.g.node('Mul', [gate, sig], [out]);
    return;
  }
  const act = cx.g.op('Mul', [gate, sig], `${out}_silu`);
  cx.g.node('Mul', [act, up], [out]);
}

export function makeLowering(fl: Flavour): OnnxLowering {
  return {
    embedding: (cx, n) => fl.embedding(cx, n.inputs[0], cx.in(n.inputs[1]), cx.out(n.outputs[0])),
    rms_norm: (cx, n) => fl.rmsNorm(cx, cx.in(n.inputs[0]), n.inputs[1], n.attrs.eps, cx.out(n.outputs[0])),
    linear: (cx, n) => fl.linear(cx, cx.in(n.inputs[0]), n.inputs[1], cx.out(n.outputs[0])),
    rope: (cx, n) => fl.rope(cx, cx.in(n.inputs[0]), cx.in(n.inputs[1]), n.inputs[2], n.attrs.heads, n.attrs.headDim, cx.out(n.outputs[0])),
    attention: (cx, n) => {
      const [q, k, v, pk, pv] = n.inputs.map((i) => cx.in(i));
      fl.attention(cx, q, k, v, pk, pv, n.attrs, [cx.out(n.outputs[0]), cx.out(n.outputs[1]), cx.out(n.outputs[2])]);
    },
    silu: (cx, n) => siluTimes(cx, cx.in(n.inputs[0]), null, cx.out(n.outputs[0])),
    mul: (cx, n) => void cx.g.node('Mul', [cx.in(n.inputs[0]), cx.in(n.inputs[1])], [cx.out(n.outputs[0])]),
    add: (cx, n) => void cx.g.node('Add', [cx.in(n.inputs[0]), cx.in(n.inputs[1])], [cx.out(n.outputs[0])]),
    split: (cx, n) => splitCols(cx, cx.in(n.inputs[0]), n.attrs.sizes, n.outputs.map((o) => cx.out(o))),
    rope_attention: (cx, n) => {
      const a = n.attrs;
      const qkv = cx.in(n.inputs[0]);
      const base = cx.out(n.outputs[0]);
      const [q, k, v] = ['q', 'k', 'v'].map((s) => cx.g.fresh(`${base}_${s}`));
      splitCols(cx, qkv, [a.heads * a.headDim, a.kvHeads * a.headDim, a.kvHeads * a.headDim], [q, k, v]);
      const qr = cx.g.fresh(`${base}_q_rope`);
      const kr = cx.g.fresh(`${base}_k_rope`);
      fl.rope(cx, q, cx.in(n.inputs[1]), n.inputs[2], a.heads, a.headDim, qr);
      fl.rope(cx, k, cx.in(n.inputs[1]), n.inputs[2], a.kvHeads, a.headDim, kr);
      fl.attention(cx, qr, kr, v, cx.in(n.inputs[3]), cx.in(n.inputs[4]), a, [base, cx.out(n.outputs[1]), cx.out(n.outputs[2])]);
    },
    swiglu: (cx, n) => {
      const F = width(n.outputs[0]);
      const out = cx.out(n.outputs[0]);
      const gate = cx.g.fresh(`${out}_gate`);
      const up = cx.g.fresh(`${out}_up`);
      splitCols(cx, cx.in(n.inputs[0]), [F, F], [gate, up]);
      siluTimes(cx, gate, up, out);
    },
    skip_rms_norm: (cx, n) => fl.skipRmsNorm(cx, cx.in(n.inputs[0]), cx.in(n.inputs[1]), n.inputs[2], n.attrs.eps, cx.out(n.outputs[0]), cx.out(n.outputs[1])),
    rms_norm_linear: (cx, n) => {
      const out = cx.out(n.outputs[0]);
      const normed = cx.g.fresh(`${out}_norm`);
      fl.rmsNorm(cx, cx.in(n.inputs[0]), n.inputs[1], n.attrs.eps, normed);
      fl.linear(cx, normed, n.inputs[2], out);
    },
  };
}
