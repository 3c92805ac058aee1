// --onnx-ops standard: ai.onnx opset 23 only (RMSNormalization, RotaryEmbedding, Attention,
// blocked DequantizeLinear), for runtimes without Microsoft's contrib ops.

import type { Value } from '../../ir/graph.js';
import type { QuantizedMatrix } from '../../ir/quantized.js';
import { quantizedOf, type LowerCtx } from './context.js';
import { denseEmbedding, gemmLinear, sliceWidth, type Flavour } from './lowering.js';
import { DT, inlineTensor } from './proto.js';

function uint8Scalar(cx: LowerCtx, v: number): string {
  return cx.once(`u8:${v}`, () => {
    const name = cx.g.fresh(`const_u8_${v}`);
    cx.g.initializers.push(inlineTensor(name, DT.uint8, [], Uint8Array.of(v)));
    return name;
  });
}

/** int4 rows gathered as bytes, split into nibbles, dequantized with the gathered scales/zeros. */
function int4Embedding(cx: LowerCtx, table: Value, m: QuantizedMatrix, ids: string, out: string): void {
  const r = cx.int4Rows(table, m);
  const G = m.scheme.groupSize;
  const nG = m.nGroups;
  const g = cx.g;
  const bytes = g.op('Gather', [r.data, ids], `${out}_bytes`, { axis: 0 });
  const lo = g.op('BitwiseAnd', [bytes, uint8Scalar(cx, 15)], `${out}_lo`);
  const hi = g.op('BitShift', [bytes, uint8Scalar(cx, 4)], `${out}_hi`, { direction: 'RIGHT' });
  const last = g.int64([-1]);
  const pairs = g.op('Concat', [g.op('Unsqueeze', [lo, last], `${out}_lo1`), g.op('Unsqueeze', [hi, last], `${out}_hi1`)], `${out}_pairs`, { axis: -1 });
  const q = g.op('Reshape', [g.op('Cast', [pairs], `${out}_qf`, { to: DT.float }), g.int64([0, 0, nG, G])], `${out}_q`);
  const zero = g.op('Unsqueeze', [g.op('Cast', [g.op('Gather', [r.zeros, ids], `${out}_z8`, { axis: 0 })], `${out}_zf`, { to: DT.float }), last], `${out}_z`);
  const scale = g.op('Unsqueeze', [g.op('Gather', [r.scales, ids], `${out}_s2`, { axis: 0 }), last], `${out}_s`);
  const deq = g.op('Mul', [g.op('Sub', [q, zero], `${out}_qz`), scale], `${out}_deq`);
  if (nG * G === m.cols) {
    g.node('Reshape', [deq, g.int64([0, 0, m.cols])], [out]);
    return;
  }
  const flat = g.op('Reshape', [deq, g.int64([0, 0, nG * G])], `${out}_padded`);
  sliceWidth(cx, flat, nG * G, m.cols, out);
}

function int8Embedding(cx: LowerCtx, table: Value, m: QuantizedMatrix, ids: string, out: string): void {
  const r = cx.int8Rows(table, m);
  const g = cx.g;
  const q = g.op('Cast', [g.op('Gather', [r.data, ids], `${out}_q8`, { axis: 0 })], `${out}_qf`, { to: DT.float });
  const s = g.op('Unsqueeze', [g.op('Gather', [r.scales, ids], `${out}_s1`, { axis: 0 }), g.int64([-1])], `${out}_s`);
  g.node('Mul', [q, s], [out]);
}

/** Additive mask [batch, 1, seq, total]: causal over cache slots (query i sits at slot past+i) and the attention_mask. */
function attentionBias(cx: LowerCtx): string {
  return cx.once('std.attn_bias', () => {
    const g = cx.g;
    const one = g.int64([1], []);
    const zero = g.int64([0], []);
    const total = g.op('Gather', [g.op('Shape', [cx.io.attentionMask], 'mask_shape'), one], 'total_len', { axis: 0 });
    const seq = g.op('Gather', [cx.batchSeq(), one], 'seq_len', { axis: 0 });
    const past = g.op('Sub', [total, seq], 'past_len');
    const keyPos = g.op('Unsqueeze', [g.op('Range', [zero, total, one], 'key_slots'), g.int64([0])], 'key_slots_row');
    const queryPos = g.op('Unsqueeze', [g.op('Range', [past, total, one], 'query_slots'), g.int64([1])], 'query_slots_col');
    const causal = g.op('LessOrEqual', [keyPos, queryPos], 'causal');
    const keep = g.op('Cast', [g.op('Unsqueeze', [cx.io.attentionMask, g.int64([1, 2])], 'mask_b11t')], 'mask_keep', { to: DT.bool });
    const allowed = g.op('And', [causal, keep], 'attn_allowed');
    return g.op('Where', [allowed, g.float([0]), g.float([-3.4028234663852886e38])], 'attn_bias');
  });
}

export const STANDARD_FLAVOUR: Flavour = {
  name: 'standard',
  rmsNorm: (cx, x, w, eps, out) => {
    cx.g.node('RMSNormalization', [x, cx.dense(w)], [out], { axis: -1, epsilon: { float: eps }, stash_type: 1 });
  },
  skipRmsNorm: (cx, x, r, w, eps, out, sum) => {
    cx.g.node('Add', [x, r], [sum]);
    cx.g.node('RMSNormalization', [sum, cx.dense(w)], [out], { axis: -1, epsilon: { float: eps }, stash_type: 1 });
  },
  linear: (cx, x, w, out) => {
    const m = quantizedOf(w);
    const N = Number(w.type.shape[0]);
    const K = Number(w.type.shape[1]);
    if (!m) {
      gemmLinear(cx, x, cx.denseMatrix(w), N, K, out);
      return;
    }
    if (m.scheme.bits === 4) {
      // [K, N] with blocks along axis 0: MatMul needs no transpose, and onnxruntime fuses the pair into MatMulNBits.
      const d = cx.blockedDequant(w, m);
      const inputs = [d.data, d.scales];
      if (d.zeroPoints) inputs.push(d.zeroPoints);
      const wd = cx.g.op('DequantizeLinear', inputs, `${out}_w`, { axis: 0, block_size: m.scheme.groupSize });
      cx.g.node('MatMul', [x, wd], [out]);
      return;
    }
    // int8 per channel keeps the [N, K] rows the embedding gather reads, so a tied table is stored once.
    const r = cx.int8Rows(w, m);
    const wd = cx.g.op('DequantizeLinear', [r.data, r.scales], `${out}_w`, { axis: 0 });
    gemmLinear(cx, x, wd, N, K, out);
  },
  embedding: (cx, table, ids, out) => {
    const m = quantizedOf(table);
    if (!m) denseEmbedding(cx, table, ids, out);
    else if (m.scheme.bits === 4) int4Embedding(cx, table, m, ids, out);
    else int8Embedding(cx, table, m, ids, out);
  },
  rope: (cx, x, positions, invFreq, heads, _headDim, out) => {
    // Without position_ids, opset-23 RotaryEmbedding takes cos/sin already per token: [batch, seq, d/2].
    const angles = cx.ropeAngles(positions, invFreq);
    const cos = cx.once(`std.cos:${angles}`, () => cx.g.op('Cos', [angles], 'rope_cos'));
    const sin = cx.once(`std.sin:${angles}`, () => cx.g.op('Sin', [angles], 'rope_sin'));
    cx.g.node('RotaryEmbedding', [x, cos, sin], [out], { num_heads: heads, interleaved: 0 });
  },
  attention: (cx, q, k, v, pastK, pastV, a, outs) => {
    cx.g.node('Attention', [q, k, v, attentionBias(cx), pastK, pastV], [...outs], { q_num_heads: a.heads, kv_num_heads: a.kvHeads, scale: { float: a.scale } });
  },
};

