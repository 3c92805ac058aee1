// The target's own pipeline (fusions + the quantize pass): the fused graph lowers in both flavours,
// f32 still meets the goldens, and fused int4 (with an int4 tied embedding/lm_head) matches the
// interpreter on the same fused, quantized graph.

import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Graph } from '../../ir/graph.js';
import { runPipeline } from '../../pipeline.js';
import { makeQuantConfig, type QuantConfig } from '../../passes/quant-config.js';
import { loadGolden } from '../../verify/golden.js';
import { maxAbsError } from '../../verify/metrics.js';
import { FLOAT32_THRESHOLDS, verifyAgainstGolden } from '../../verify/verify.js';
import { referenceRunner, type ModelRunner } from '../runner.js';
import { onnxTarget } from './index.js';
import { compileContext, openFixture, prefillThenDecode, QUANT_REL_TOL, REPO, tempDir } from './onnx.test-helpers.js';

const FUSED_OPS = ['rope_attention', 'swiglu', 'skip_rms_norm', 'rms_norm_linear'];

async function build(fixture: string, quant: QuantConfig): Promise<{ graph: Graph; ck: ReturnType<typeof openFixture>['ck'] }> {
  const { ck, graph } = openFixture(fixture);
  const passes = [...onnxTarget.pipeline, ...(quant.linear || quant.embeddings ? ['quantize'] : [])];
  const fused = await runPipeline(graph, passes, { reader: ck, quant, log: () => {} });
  return { graph: fused, ck };
}

async function caseLogits(runner: ModelRunner, ids: readonly number[][]): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const seq of ids) out.push(...(await prefillThenDecode(runner, seq.slice(0, 5), seq.slice(5))));
  return out;
}

describe.each(['ort', 'standard'])('onnx %s ops on the fused pipeline', (ops) => {
  it.each(['llama32-tiny', 'stories260K'])('%s: fused f32 passes the goldens', async (fixture) => {
    const { graph, ck } = await build(fixture, makeQuantConfig({ quant: 'f32' }));
    expect(FUSED_OPS.every((op) => graph.nodes.some((n) => n.op === op))).toBe(true);
    const ctx = compileContext(ck, { onnxOps: ops });
    const dir = tempDir(`fused-${fixture}-${ops}`);
    try {
      await onnxTarget.emit(graph, dir, ctx);
      const runner = await onnxTarget.load(dir, graph, ctx);
      const report = await verifyAgainstGolden(runner, loadGolden(join(REPO, 'golden', fixture)), 'f32', FLOAT32_THRESHOLDS);
      await runner.dispose();
      expect(report.pass).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each(['llama32-tiny', 'stories260K'])('%s: fused int4 with int4 embeddings matches the interpreter', async (fixture) => {
    // RTN keeps the test fast; the target runs whatever bits the pass chose, the method does not matter here.
    const quant = makeQuantConfig({ quant: 'int4', method: 'rtn', quantEmbeddings: 'int4' });
    const { graph, ck } = await build(fixture, quant);
    expect(graph.params.some((p) => p.param?.kind === 'quantized' && graph.nodes.some((n) => n.op === 'embedding' && n.inputs[0].id === p.id))).toBe(true);
    const ctx = compileContext(ck, { onnxOps: ops }, quant);
    const golden = loadGolden(join(REPO, 'golden', fixture));
    const seqs = golden.cases.filter((c) => c.startPosition === 0 && c.inputIds.length > 5).map((c) => [...c.inputIds.slice(0, 12)]);
    const dir = tempDir(`fused-q-${fixture}-${ops}`);
    try {
      await onnxTarget.emit(graph, dir, ctx);
      const runner = await onnxTarget.load(dir, graph, ctx);
      const got = await caseLogits(runner, seqs);
      await runner.dispose();
      const ref = await caseLogits(referenceRunner(graph, ck), seqs);
      for (let i = 0; i < ref.length; i++) {
        const scale = ref[i].reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        expect(maxAbsError(ref[i], got[i]) / scale).toBeLessThanOrEqual(QUANT_REL_TOL);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
