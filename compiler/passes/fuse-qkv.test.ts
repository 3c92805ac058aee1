import { describe, expect, it } from 'vitest';
import type { WeightSource } from '../ir/graph.js';
import { fuseQkvPass } from './fuse-qkv.js';
import { MODELS, PASS_CTX, REWRITE_TOLERANCE, applyPass, graphBefore, loadFixture, opDelta } from './passes.test-helpers.js';

const tensorNames = (s: WeightSource | undefined): string[] => (s?.kind === 'concat_rows' ? s.parts.map((p) => (p.kind === 'checkpoint' ? p.tensor : p.kind)) : []);

describe.each(MODELS)('fuse-qkv on %s', (name) => {
  it('stacks q/k/v per layer lazily and computes the same through the KV cache', async () => {
    const fx = loadFixture(name);
    const { numLayers: L, numHeads: h, numKvHeads: kvh, headDim: d } = fx.graph.info;
    const { before, after, inputUnchanged, diff } = await applyPass(fuseQkvPass, await graphBefore(fx.graph, 'fuse-qkv'), fx.ck);
    expect(inputUnchanged).toBe(true);
    expect(opDelta(before, after)).toEqual({ linear: -2 * L, split: L });
    const splits = after.nodes.filter((n) => n.op === 'split');
    splits.forEach((split, i) => {
      if (split.op !== 'split') throw new Error('unreachable');
      expect(split.attrs.sizes).toEqual([h * d, kvh * d, kvh * d]);
      const fused = after.nodes.find((n) => n.outputs.includes(split.inputs[0]));
      expect(fused?.op).toBe('linear');
      const w = fused?.inputs[1];
      expect(w?.type.shape).toEqual([(h + 2 * kvh) * d, fx.graph.info.hiddenSize]);
      const proj = ['q', 'k', 'v'].map((x) => `model.layers.${i}.self_attn.${x}_proj.weight`);
      expect(tensorNames(w?.param)).toEqual(proj);
      expect(after.params).toContain(w);
    });
    // The split hands back the very values the ropes and attention read.
    const linearOuts = new Set(before.nodes.filter((n) => n.op === 'linear').map((n) => n.outputs[0]));
    for (const split of splits) for (const o of split.outputs) expect(linearOuts.has(o)).toBe(true);
    expect(diff.logits).toBeLessThanOrEqual(REWRITE_TOLERANCE);
    expect(diff.cache).toBeLessThanOrEqual(REWRITE_TOLERANCE);
    expect(await fuseQkvPass.run(after, PASS_CTX)).toBe(after);
  });
});
