import { describe, expect, it } from 'vitest';
import type { Graph, Value } from '../ir/graph.js';
import { shareConstantsPass } from './share-constants.js';
import { MODELS, PASS_CTX, applyPass, graphBefore, loadFixture, opDelta } from './passes.test-helpers.js';

const constants = (g: Graph): Value[] => g.params.filter((p) => p.param?.kind === 'constant');
const ropeTables = (g: Graph): Set<number> => new Set(g.nodes.filter((n) => n.op === 'rope').map((n) => n.inputs[2].id));

describe.each(MODELS)('share-constants on %s', (name) => {
  it('leaves one inv_freq table that every rope reads, computing the same', async () => {
    const fx = loadFixture(name);
    const L = fx.graph.info.numLayers;
    const { before, after, inputUnchanged, diff } = await applyPass(shareConstantsPass, await graphBefore(fx.graph, 'share-constants'), fx.ck);
    expect(inputUnchanged).toBe(true);
    expect(constants(before)).toHaveLength(L);
    expect(ropeTables(before).size).toBe(L);
    expect(opDelta(before, after)).toEqual({});
    expect(after.params.length).toBe(before.params.length - (L - 1));
    const [shared] = constants(after);
    expect(constants(after)).toHaveLength(1);
    expect(ropeTables(after)).toEqual(new Set([shared.id]));
    expect(shared.param).toEqual(constants(before)[0].param);
    expect(shared.name).toBe(L > 1 ? 'layers.*.rope.inv_freq' : 'layers.0.rope.inv_freq');
    // Same numbers read from one place: the results are bit-identical.
    expect(diff.logits).toBe(0);
    expect(diff.cache).toBe(0);
    expect(await shareConstantsPass.run(after, PASS_CTX)).toBe(after);
  });
});

describe('share-constants keeps tables whose numbers differ', () => {
  it('merges only the identical ones', async () => {
    const fx = loadFixture('stories260K');
    const g = fx.graph;
    // Layer 1 gets its own table, one ulp off in the first entry.
    const old = constants(g)[1];
    if (old.param?.kind !== 'constant') throw new Error('fixture has no constant table');
    const data = Float32Array.from(old.param.data);
    data[0] = Math.fround(data[0] * (1 + 2 ** -23));
    const odd: Value = { ...old, param: { kind: 'constant', data } };
    const edited: Graph = {
      ...g,
      params: g.params.map((p) => (p === old ? odd : p)),
      nodes: g.nodes.map((n) => (n.inputs.includes(old) ? { ...n, inputs: n.inputs.map((v) => (v === old ? odd : v)) } : n)),
    };
    const { after, inputUnchanged } = await applyPass(shareConstantsPass, edited, fx.ck);
    expect(inputUnchanged).toBe(true);
    expect(constants(after)).toHaveLength(2);
    expect(ropeTables(after).size).toBe(2);
    expect(constants(after).some((p) => p === odd)).toBe(true);
  });
});
