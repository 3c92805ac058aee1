import { describe, expect, it } from 'vitest';
import { fuseSkipNormPass } from './fuse-skip-norm.js';
import { MODELS, PASS_CTX, REWRITE_TOLERANCE, applyPass, graphBefore, loadFixture, opDelta } from './passes.test-helpers.js';

describe.each(MODELS)('fuse-skip-norm on %s', (name) => {
  it('fuses every residual add whose sum is normed and read again, computing the same', async () => {
    const fx = loadFixture(name);
    const L = fx.graph.info.numLayers;
    const { before, after, inputUnchanged, diff } = await applyPass(fuseSkipNormPass, await graphBefore(fx.graph, 'fuse-skip-norm'), fx.ck);
    expect(inputUnchanged).toBe(true);
    // Two residual adds per layer; the last one's sum feeds only the final norm and stays an add.
    const fusedCount = 2 * L - 1;
    expect(opDelta(before, after)).toEqual({ add: -fusedCount, rms_norm: -fusedCount, skip_rms_norm: fusedCount });
    const adds = before.nodes.filter((n) => n.op === 'add');
    const last = adds[adds.length - 1];
    expect(after.nodes).toContain(last);
    for (const n of after.nodes) {
      if (n.op !== 'skip_rms_norm') continue;
      // The sum is still the next residual: some later node reads it.
      const sum = n.outputs[1];
      expect(after.nodes.filter((m) => m.inputs.includes(sum)).length).toBeGreaterThan(0);
      const add = adds.find((a) => a.outputs[0] === sum);
      expect(add).toBeDefined();
      expect(n.inputs.slice(0, 2)).toEqual([add?.inputs[1], add?.inputs[0]]);
    }
    expect(diff.logits).toBeLessThanOrEqual(REWRITE_TOLERANCE);
    expect(diff.cache).toBeLessThanOrEqual(REWRITE_TOLERANCE);
    expect(await fuseSkipNormPass.run(after, PASS_CTX)).toBe(after);
  });
});
