import { describe, expect, it } from 'vitest';
import { dcePass } from './dce.js';
import { MODELS, PASS_CTX, applyPass, graphBefore, loadFixture, opDelta, withExtraReader } from './passes.test-helpers.js';

describe.each(MODELS)('dce on %s', (name) => {
  it('drops the weights the fusions stacked, keeps every node of the fused graph', async () => {
    const fx = loadFixture(name);
    const L = fx.graph.info.numLayers;
    const { before, after, inputUnchanged, diff } = await applyPass(dcePass, await graphBefore(fx.graph, 'dce'), fx.ck);
    expect(inputUnchanged).toBe(true);
    expect(after.nodes).toEqual(before.nodes);
    // q, k, v, gate and up of every layer live on only inside the concat_rows sources.
    expect(before.params.length - after.params.length).toBe(5 * L);
    const read = new Set(after.nodes.flatMap((n) => n.inputs.map((v) => v.id)));
    for (const p of after.params) expect(read.has(p.id)).toBe(true);
    expect(after.inputs).toBe(before.inputs);
    expect(diff.logits).toBe(0);
    expect(diff.cache).toBe(0);
    expect(await dcePass.run(after, PASS_CTX)).toBe(after);
  });

  it('drops a chain of unread nodes, and nothing from the plain import', async () => {
    const fx = loadFixture(name);
    const g = fx.graph;
    expect(await dcePass.run(g, PASS_CTX)).toBe(g);
    const once = withExtraReader(g, g.nodes[3].outputs[0], 'probe1');
    const twice = withExtraReader(once, once.nodes[once.nodes.length - 1].outputs[0], 'probe2');
    const { before, after, diff } = await applyPass(dcePass, twice, fx.ck);
    expect(opDelta(before, after)).toEqual({ silu: -2 });
    expect(after.nodes).toEqual(g.nodes);
    expect(after.params).toEqual(g.params);
    expect(diff.logits).toBe(0);
  });
});
