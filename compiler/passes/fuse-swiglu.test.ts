import { describe, expect, it } from 'vitest';
import type { Graph, Value } from '../ir/graph.js';
import { fuseSwigluPass } from './fuse-swiglu.js';
import { MODELS, PASS_CTX, REWRITE_TOLERANCE, applyPass, graphBefore, loadFixture, opDelta, withExtraReader } from './passes.test-helpers.js';

/** Layer 0's gate half: the first split output that a silu reads. */
function firstGate(g: Graph): Value {
  const split = g.nodes.find((n) => n.op === 'split' && g.nodes.some((m) => m.op === 'silu' && m.inputs[0] === n.outputs[0]));
  if (!split) throw new Error('no gate/up split');
  return split.outputs[0];
}

describe.each(MODELS)('fuse-swiglu on %s', (name) => {
  it('turns split -> silu, mul into one swiglu per layer, computing the same', async () => {
    const fx = loadFixture(name);
    const L = fx.graph.info.numLayers;
    const { before, after, inputUnchanged, diff } = await applyPass(fuseSwigluPass, await graphBefore(fx.graph, 'fuse-swiglu'), fx.ck);
    expect(inputUnchanged).toBe(true);
    expect(opDelta(before, after)).toEqual({ split: -L, silu: -L, mul: -L, swiglu: L });
    // Each swiglu writes the value the down projection reads, from the stacked gate|up linear.
    const muls = before.nodes.filter((n) => n.op === 'mul').map((n) => n.outputs[0]);
    const swiglus = after.nodes.filter((n) => n.op === 'swiglu');
    expect(swiglus.map((n) => n.outputs[0])).toEqual(muls);
    for (const s of swiglus) expect(after.nodes.find((n) => n.outputs.includes(s.inputs[0]))?.op).toBe('linear');
    expect(diff.logits).toBeLessThanOrEqual(REWRITE_TOLERANCE);
    expect(diff.cache).toBeLessThanOrEqual(REWRITE_TOLERANCE);
    expect(await fuseSwigluPass.run(after, PASS_CTX)).toBe(after);
  });

  it('leaves a layer alone when its gate half has another reader', async () => {
    const fx = loadFixture(name);
    const L = fx.graph.info.numLayers;
    const fused = await graphBefore(fx.graph, 'fuse-swiglu');
    const { before, after, diff } = await applyPass(fuseSwigluPass, withExtraReader(fused, firstGate(fused)), fx.ck);
    expect(opDelta(before, after)).toEqual(L === 1 ? {} : { split: 1 - L, silu: 1 - L, mul: 1 - L, swiglu: L - 1 });
    expect(after.nodes.some((n) => n.inputs.includes(firstGate(fused)) && n.op === 'silu' && n.name !== 'probe')).toBe(true);
    expect(diff.logits).toBeLessThanOrEqual(REWRITE_TOLERANCE);
  });
});
