// The whole DEFAULT_PIPELINE: the fused graph matches transformers' goldens on every fixture, has the
// per-layer structure the fusions promise, and its IR text is pinned by a snapshot.

import { describe, expect, it } from 'vitest';
import { printGraph } from '../ir/printer.js';
import { runPipeline } from '../pipeline.js';
import { referenceRunner } from '../targets/runner.js';
import { loadGolden } from '../verify/golden.js';
import { FLOAT32_THRESHOLDS, formatVerifyReport, verifyAgainstGolden } from '../verify/verify.js';
import { DEFAULT_PIPELINE, PASS_REGISTRY } from './registry.js';
import { FIXTURES, MODELS, PASS_CTX, REPO, REWRITE_TOLERANCE, compareThroughCache, loadFixture, opCounts } from './passes.test-helpers.js';

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

  describe.each(MODELS)('%s', (name) => {
    it('fuses every layer to the same op sequence and computes what the plain graph does', async () => {
      const fx = loadFixture(name);
      const fused = await runPipeline(fx.graph, DEFAULT_PIPELINE, PASS_CTX);
      const { numLayers: L, tiedEmbeddings } = fused.info;
      expect(opCounts(fx.graph)).toEqual({ embedding: 1, rms_norm: 2 * L + 1, linear: 7 * L + 1, rope: 2 * L, attention: L, add: 2 * L, silu: L, mul: L });
      const layers = Array.from({ length: L }, () => LAYER).flat();
      layers[layers.length - 1] = 'add';
      expect(fused.nodes.map((n) => n.op)).toEqual(['embedding', 'rms_norm', ...layers, 'rms_norm_linear']);
      // embedding, one inv_freq table, final norm, (lm_head), and per layer 2 norms + qkv, o, gate_up, down.
      expect(fused.params.length).toBe(3 + (tiedEmbeddings ? 0 : 1) + 6 * L);
      expect(fused.params.filter((p) => p.param?.kind === 'constant')).toHaveLength(1);
      const diff = compareThroughCache(fx.graph, fused, fx.ck);
      expect(diff.logits).toBeLessThanOrEqual(REWRITE_TOLERANCE);
      expect(diff.cache).toBeLessThanOrEqual(REWRITE_TOLERANCE);
    });
  });

  describe.each(FIXTURES)('%s', (name) => {
    it('passes the float32 goldens fused, as the plain graph does', async () => {
      const fx = loadFixture(name);
      const golden = loadGolden(`${REPO}golden/${name}`);
      const fused = await runPipeline(fx.graph, DEFAULT_PIPELINE, PASS_CTX);
      const report = await verifyAgainstGolden(referenceRunner(fused, fx.ck), golden, 'f32', FLOAT32_THRESHOLDS);
      const plain = await verifyAgainstGolden(referenceRunner(fx.graph, fx.ck), golden, 'f32', FLOAT32_THRESHOLDS);
      if (!report.pass) console.log(`${name} fused:\n${formatVerifyReport(report)}\n${name} plain:\n${formatVerifyReport(plain)}`);
      expect(plain.pass).toBe(true);
      expect(report.pass).toBe(true);
      expect(Object.keys(report.cases).length).toBeGreaterThan(0);
      expect(report.greedy?.pass).toBe(true);
    });
  });

  it('llama32-tiny fused IR matches the snapshot', async () => {
    const fx = loadFixture('llama32-tiny');
    const fused = await runPipeline(fx.graph, DEFAULT_PIPELINE, PASS_CTX);
    await expect(printGraph(fused)).toMatchFileSnapshot('./__snapshots__/llama32-tiny.fused.ir');
  });
});
