// The whole DEFAULT_PIPELINE: the fused graph matches transformers' goldens on every fixture, has the
// per-layer structure the fusions promise, and its IR text is pinned by a snapshot.

import { describe, expect, it } from 'vitest';
import { printGraph } from '../ir/printer.js';
import { runPipeline } from '../pipeline.js';
import { referenceRunner } from '../targets/runner.js';
import { loadGolden } from '../verify/golden.js';
import { FLOAT32_THRESHOLDS, formatVerifyReport, verifyAgainstGolden } from '../verify/verify.js';
import { DEFAULT_PIPELINE, PASS_REGISTRY } from './registry.js';
import { FIXTURES, PASS_CTX, REPO, REWRITE_TOLERANCE, compareThroughCache, loadFixture, opCounts } from './testing.js';

/** One decoder layer after fusion; the last one ends in a plain add (its sum feeds the fused head). */
const LAYER = ['linear', 'rope_attention', 'linear', 'skip_rms_norm', 'linear', 'swiglu', 'linear', 'skip_rms_norm'];

describe('DEFAULT_PIPELINE', () => {
  it('registers every pass it names, with a description', () => {
    for (const name of DEFAULT_PIPELINE) {
      const pass = PASS_REGISTRY.get(name);
      expect(pass?.name).toBe(name);
      expect(pass?.description.length).toBeGreaterThan(10);
    }
  });

  describe.each(FIXTURES)('%s', (name) => {
    it('fuses every layer and passes the float32 goldens', async () => {
      const fx = loadFixture(name);
      const fused = await runPipeline(fx.graph, DEFAULT_PIPELINE, PASS_CTX);
      const { numLayers: L, tiedEmbeddings } = fused.info;

      const ops = fused.nodes.map((n) => n.op);
      const layers = Array.from({ length: L }, () => LAYER).flat();
      layers[layers.length - 1] = 'add';
      expect(ops).toEqual(['embedding', 'rms_norm', ...layers, 'rms_norm_linear']);
      expect(opCounts(fx.graph)).toEqual({ embedding: 1, rms_norm: 2 * L + 1, linear: 7 * L + 1, rope: 2 * L, attention: L, add: 2 * L, silu: L, mul: L });
      // embedding, one inv_freq table, final norm, (lm_head), and per layer 2 norms + 4 stacked/plain weights.
      expect(fused.params.length).toBe(3 + (tiedEmbeddings ? 0 : 1) + 6 * L);
      expect(fused.params.filter((p) => p.param?.kind === 'constant')).toHaveLength(1);

      const diff = compareThroughCache(fx.graph, fused, fx.ck);
      expect(diff.logits).toBeLessThanOrEqual(REWRITE_TOLERANCE);
      expect(diff.cache).toBeLessThanOrEqual(REWRITE_TOLERANCE);

      const report = await verifyAgainstGolden(referenceRunner(fused, fx.ck), loadGolden(`${REPO}golden/${name}`), 'f32', FLOAT32_THRESHOLDS);
      if (!report.pass) console.log(formatVerifyReport(report));
      expect(report.pass).toBe(true);
      console.log(`${name}: fused vs unfused logits ${diff.logits.toExponential(2)} cache ${diff.cache.toExponential(2)}`);
      console.log(formatVerifyReport(report));
    });
  });

  it('llama32-tiny fused IR matches the snapshot', async () => {
    const fx = loadFixture('llama32-tiny');
    const fused = await runPipeline(fx.graph, DEFAULT_PIPELINE, PASS_CTX);
    await expect(printGraph(fused)).toMatchFileSnapshot('./__snapshots__/llama32-tiny.fused.ir');
  });
});
