// fuse-rope-attention: split(qkv) -> rope(q), rope(k), attention(q', k', v, past) ==>
// rope_attention(qkv, positions, invFreq, past): RoPE is applied inside attention, reading the packed
// projections directly. Only when the split and rope outputs are read by the pattern alone.

import type { Graph } from '../ir/graph.js';
import type { Pass } from './pass.js';
import { Rewrite } from './rewrite.js';

export function fuseRopeAttention(g: Graph): Graph {
  const rw = new Rewrite(g);
  const ix = rw.index;
  for (const att of g.nodes) {
    if (att.op !== 'attention') continue;
    const [qr, kr, v, pastK, pastV] = att.inputs;
    const ropeQ = ix.producedBy(qr, 'rope');
    const ropeK = ix.producedBy(kr, 'rope');
    const split = ix.producedBy(v, 'split');
    if (!ropeQ || !ropeK || !split || rw.claimed(split)) continue;
    const a = att.attrs;
    const [q, k, vs] = split.outputs;
    const { sizes } = split.attrs;
    // The packed layout rope_attention reads: [q | k | v] columns, in that order.
    const layout = sizes.length === 3 && sizes[0] === a.heads * a.headDim && sizes[1] === a.kvHeads * a.headDim && sizes[2] === a.kvHeads * a.headDim;
    const wiring = ropeQ.inputs[0].id === q.id && ropeK.inputs[0].id === k.id && v.id === vs.id;
    // One positions input and one table for both, as the fused op takes them once.
    const sameRope = ropeQ.inputs[1].id === ropeK.inputs[1].id && ropeQ.inputs[2].id === ropeK.inputs[2].id;
    const heads = ropeQ.attrs.heads === a.heads && ropeK.attrs.heads === a.kvHeads && ropeQ.attrs.headDim === a.headDim && ropeK.attrs.headDim === a.headDim;
    if (!layout || !wiring || !sameRope || !heads) continue;
    const private_ = ix.onlyUsedBy(q, ropeQ) && ix.onlyUsedBy(k, ropeK) && ix.onlyUsedBy(vs, att) && ix.onlyUsedBy(qr, att) && ix.onlyUsedBy(kr, att);
    if (!private_) continue;
    // The fused node takes over the attention's name and output values (att itself is removed).
    rw.replace([split, ropeQ, ropeK, att], [
      { op: 'rope_attention', name: att.name, inputs: [split.inputs[0], ropeQ.inputs[1], ropeQ.inputs[2], pastK, pastV], outputs: att.outputs, attrs: a },
    ]);
  }
  return rw.finish();
}

export const fuseRopeAttentionPass: Pass = {
  name: 'fuse-rope-attention',
  description: 'split(qkv) -> rope(q), rope(k), attention => rope_attention over the packed projections (RoPE inside)',
  run: (g) => fuseRopeAttention(g),
};
