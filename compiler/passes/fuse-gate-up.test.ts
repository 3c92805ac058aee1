import { describe, expect, it } from 'vitest';
import type { WeightSource } from '../ir/graph.js';
import { fuseGateUpPass } from './fuse-gate-up.js';
import { MODELS, PASS_CTX, REWRITE_TOLERANCE, applyPass, graphBefore, loadFixture, opDelta } from './passes.test-helpers.js';

const tensorNames = (s: WeightSource | undefined): string[] => (s?.kind === 'concat_rows' ? s.parts.map((p) => (p.kind === 'checkpoint' ? p.tensor : p.kind)) : []);

describe.each(MODELS)('fuse-gate-up on %s', (name) => {
  it('stacks gate then up per layer lazily and computes the same through the KV cache', async () => {
    const fx = loadFixture(name);
    const { numLayers: L, intermediateSize: F, hiddenSize: H } = fx.graph.info;
    const { before, after, inputUnchanged, diff } = await applyPass(fuseGateUpPass, await graphBefore(fx.graph, 'fuse-gate-up'), fx.ck);
    expect(inputUnchanged).toBe(true);
    expect(opDelta(before, after)).toEqual({ linear: -L, split: L });
    const splits = after.nodes.filter((n) => n.op === 'split' && n.outputs.length === 2);
    expect(splits).toHaveLength(L);
    splits.forEach((split, i) => {
      if (split.op !== 'split') throw new Error('unreachable');
      expect(split.attrs.sizes).toEqual([F, F]);
      // Gate first: its output is what silu reads.
      expect(after.nodes.some((n) => n.op === 'silu' && n.inputs[0] === split.outputs[0])).toBe(true);
      const fused = after.nodes.find((n) => n.outputs.includes(split.inputs[0]));
      expect(fused?.inputs[1].type.shape).toEqual([2 * F, H]);
      expect(tensorNames(fused?.inputs[1].param)).toEqual([`model.layers.${i}.mlp.gate_proj.weight`, `model.layers.${i}.mlp.up_proj.weight`]);
    });
    expect(diff.logits).toBeLessThanOrEqual(REWRITE_TOLERANCE);
    expect(diff.cache).toBeLessThanOrEqual(REWRITE_TOLERANCE);
    expect(await fuseGateUpPass.run(after, PASS_CTX)).toBe(after);
  });
});
