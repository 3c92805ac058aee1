import { describe, expect, it } from 'vitest';
import type { Graph, Value } from '../ir/graph.js';
import { fuseRopeAttentionPass } from './fuse-rope-attention.js';
import { MODELS, PASS_CTX, REWRITE_TOLERANCE, applyPass, graphBefore, loadFixture, opDelta, withExtraReader } from './passes.test-helpers.js';

/** Layer 0's rotated keys: the k input of the first attention. */
function firstRotatedKeys(g: Graph): Value {
  const att = g.nodes.find((n) => n.op === 'attention');
  if (!att) throw new Error('no attention');
  return att.inputs[1];
}

describe.each(MODELS)('fuse-rope-attention on %s', (name) => {
  it('folds both ropes into one rope_attention per layer over the packed qkv, computing the same', async () => {
    const fx = loadFixture(name);
    const { numLayers: L, numHeads: h, numKvHeads: kvh, headDim: d } = fx.graph.info;
    const { before, after, inputUnchanged, diff } = await applyPass(fuseRopeAttentionPass, await graphBefore(fx.graph, 'fuse-rope-attention'), fx.ck);
    expect(inputUnchanged).toBe(true);
    expect(opDelta(before, after)).toEqual({ split: -L, rope: -2 * L, attention: -L, rope_attention: L });
    const attentions = before.nodes.filter((n) => n.op === 'attention');
    const fused = after.nodes.filter((n) => n.op === 'rope_attention');
    fused.forEach((n, i) => {
      if (n.op !== 'rope_attention') throw new Error('unreachable');
      // Same outputs (attention result and present k/v) and the same cache inputs as before.
      expect(n.outputs).toEqual(attentions[i].outputs);
      expect(n.inputs.slice(3)).toEqual(attentions[i].inputs.slice(3));
      expect(n.inputs[0].type.shape).toEqual(['seq', (h + 2 * kvh) * d]);
      expect(n.inputs[1]).toBe(after.inputs[1]);
      expect(n.attrs).toEqual(attentions[i].attrs);
    });
    expect(diff.logits).toBeLessThanOrEqual(REWRITE_TOLERANCE);
    expect(diff.cache).toBeLessThanOrEqual(REWRITE_TOLERANCE);
    expect(await fuseRopeAttentionPass.run(after, PASS_CTX)).toBe(after);
  });

  it('leaves a layer alone when its rotated keys have another reader', async () => {
    const fx = loadFixture(name);
    const L = fx.graph.info.numLayers;
    const g = await graphBefore(fx.graph, 'fuse-rope-attention');
    const { before, after, diff } = await applyPass(fuseRopeAttentionPass, withExtraReader(g, firstRotatedKeys(g)), fx.ck);
    expect(opDelta(before, after)).toEqual(L === 1 ? {} : { split: 1 - L, rope: 2 - 2 * L, attention: 1 - L, rope_attention: L - 1 });
    expect(diff.logits).toBeLessThanOrEqual(REWRITE_TOLERANCE);
  });
});
