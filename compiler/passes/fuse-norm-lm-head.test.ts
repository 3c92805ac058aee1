import { describe, expect, it } from 'vitest';
import { fuseNormLmHeadPass } from './fuse-norm-lm-head.js';
import { MODELS, PASS_CTX, REWRITE_TOLERANCE, applyPass, graphBefore, loadFixture, opDelta, withExtraReader } from './passes.test-helpers.js';

describe.each(MODELS)('fuse-norm-lm-head on %s', (name) => {
  it('fuses the final norm into the head and nothing else, computing the same', async () => {
    const fx = loadFixture(name);
    const { before, after, inputUnchanged, diff } = await applyPass(fuseNormLmHeadPass, await graphBefore(fx.graph, 'fuse-norm-lm-head'), fx.ck);
    expect(inputUnchanged).toBe(true);
    // Layer 0's input norm also feeds a single (qkv) linear by now; it is not the head and stays.
    expect(opDelta(before, after)).toEqual({ rms_norm: -1, linear: -1, rms_norm_linear: 1 });
    const head = after.nodes[after.nodes.length - 1];
    expect(head.op).toBe('rms_norm_linear');
    expect(head.outputs[0]).toBe(after.outputs[0]);
    // Tied: the head reads the embedding table itself, no copy.
    const embedding = after.nodes.find((n) => n.op === 'embedding');
    if (fx.graph.info.tiedEmbeddings) expect(head.inputs[2]).toBe(embedding?.inputs[0]);
    else expect(head.inputs[2]).not.toBe(embedding?.inputs[0]);
    expect(diff.logits).toBeLessThanOrEqual(REWRITE_TOLERANCE);
    expect(diff.cache).toBeLessThanOrEqual(REWRITE_TOLERANCE);
    expect(await fuseNormLmHeadPass.run(after, PASS_CTX)).toBe(after);
  });

  it('leaves the head alone when the normed hidden state has another reader', async () => {
    const fx = loadFixture(name);
    const g = await graphBefore(fx.graph, 'fuse-norm-lm-head');
    const head = g.nodes.find((n) => n.outputs[0] === g.outputs[0]);
    if (!head) throw new Error('no head');
    const probed = withExtraReader(g, head.inputs[0]);
    expect(await fuseNormLmHeadPass.run(probed, PASS_CTX)).toBe(probed);
  });
});
