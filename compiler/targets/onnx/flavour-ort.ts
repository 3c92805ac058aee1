// --onnx-ops ort: onnxruntime's com.microsoft contrib ops (MatMulNBits, GatherBlockQuantized,
// GroupQueryAttention, RotaryEmbedding, SkipSimplifiedLayerNormalization) on ai.onnx opset 21.

import type { Value } from '../../ir/graph.js';
import { MS_DOMAIN } from './builder.js';
import { quantizedOf, type LowerCtx } from './context.js';
import { denseEmbedding, gemmLinear, sliceWidth, type Flavour } from './lowering.js';
import { DT } from './proto.js';

/**
 * RotaryEmbedding indexes a [rows, d/2] cos/sin cache by position_ids. The cache holds the
 * batch's own angles (computed in-graph, so any position works, 100000+ included) and the
 * lookup ids are 0..batch*seq-1.
 */
function ropeTables(cx: LowerCtx, positions: string, invFreq: Value, half: number): { ids: string; cos: string; sin: string } {
  const angles = cx.ropeAngles(positions, invFreq);
  const cos = cx.once(`ort.cos:${angles}`, () => cx.g.op('Reshape', [cx.g.op('Cos', [angles], 'rope_cos_bsd'), cx.g.int64([-1, half])], 'rope_cos'));
  const sin = cx.once(`ort.sin:${angles}`, () => cx.g.op('Reshape', [cx.g.op('Sin', [angles], 'rope_sin_bsd'), cx.g.int64([-1, half])], 'rope_sin'));
  const ids = cx.once('ort.rope_ids', () => {
    const bs = cx.batchSeq();
    const n = cx.g.op('ReduceProd', [bs], 'batch_x_seq', { keepdims: 0 });
    const range = cx.g.op('Range', [cx.g.int64([0], []), n, cx.g.int64([1], [])], 'rope_rows');
    return cx.g.op('Reshape', [range, bs], 'rope_lookup_ids');
  });
  return { ids, cos, sin };
}

export const ORT_FLAVOUR: Flavour = {
  name: 'ort',
  rmsNorm: (cx, x, w, eps, out) => {
    cx.g.node('SimplifiedLayerNormalization', [x, cx.dense(w)], [out], { axis: -1, epsilon: { float: eps }, stash_type: 1 });
  },
  skipRmsNorm: (cx, x, r, w, eps, out, sum) => {
    cx.g.node('SkipSimplifiedLayerNormalization', [x, r, cx.dense(w)], [out, '', '', sum], { epsilon: { float: eps } }, MS_DOMAIN);
  },
  linear: (cx, x, w, out) => {
    const m = quantizedOf(w);
    if (!m) {
      gemmLinear(cx, x, cx.denseMatrix(w), Number(w.type.shape[0]), Number(w.type.shape[1]), out);
      return;
    }
    const q = cx.matMulNBits(w, m);
    const inputs = [x, q.B, q.scales];
    if (q.zeroPoints) inputs.push(q.zeroPoints);
    cx.g.node('MatMulNBits', inputs, [out], { K: q.K, N: q.N, bits: q.bits, block_size: q.blockSize, accuracy_level: cx.opts.accuracyLevel }, MS_DOMAIN);
  },
  embedding: (cx, table, ids, out) => {
    const m = quantizedOf(table);
    if (!m) {
      denseEmbedding(cx, table, ids, out);
      return;
    }
    // The MatMulNBits initializers serve the gather too (a tied lm_head shares them): B viewed
    // as [V, nBlocks * blob] is GatherBlockQuantized's packed uint8 data.
    const q = cx.matMulNBits(table, m);
    const data = cx.once(`ort.gbq:${q.B}`, () => cx.g.op('Reshape', [q.B, cx.g.int64([q.N, -1])], `${q.B}_rows`));
    const inputs = [data, ids, q.scales];
    if (q.zeroPoints) inputs.push(q.zeroPoints);
    const padded = q.nBlocks * q.blockSize;
    const y = padded === q.K ? out : cx.g.fresh(`${out}_padded`);
    cx.g.node('GatherBlockQuantized', inputs, [y], { bits: q.bits, block_size: q.blockSize, gather_axis: 0, quantize_axis: 1 }, MS_DOMAIN);
    if (y !== out) sliceWidth(cx, y, padded, q.K, out);
  },
  rope: (cx, x, positions, invFreq, heads, headDim, out) => {
    const t = ropeTables(cx, positions, invFreq, headDim / 2);
    cx.g.node('RotaryEmbedding', [x, t.ids, t.cos, t.sin], [out], { num_heads: heads, interleaved: 0 }, MS_DOMAIN);
  },
  attention: (cx, q, k, v, pastK, pastV, a, outs) => {
    // seqlens_k = total - 1 per batch row, from the mask; total_sequence_length = mask width.
    const seqlens = cx.once('ort.seqlens_k', () => {
      const sum = cx.g.op('ReduceSum', [cx.io.attentionMask, cx.g.int64([1])], 'mask_sum', { keepdims: 0 });
      const less = cx.g.op('Sub', [sum, cx.g.int64([1], [])], 'mask_sum_minus_1');
      return cx.g.op('Cast', [less], 'seqlens_k', { to: DT.int32 });
    });
    const total = cx.once('ort.total_len', () => {
      const shape = cx.g.op('Shape', [cx.io.attentionMask], 'mask_shape');
      const t = cx.g.op('Gather', [shape, cx.g.int64([1], [])], 'total_len_i64', { axis: 0 });
      return cx.g.op('Cast', [t], 'total_sequence_length', { to: DT.int32 });
    });
    cx.g.node('GroupQueryAttention', [q, k, v, pastK, pastV, seqlens, total], [...outs], { num_heads: a.heads, kv_num_heads: a.kvHeads, scale: { float: a.scale } }, MS_DOMAIN);
  },
};
