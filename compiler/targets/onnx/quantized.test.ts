// int8/int4 artifacts against the reference interpreter on the same quantized graph (the same
// QuantizedMatrix bits): every golden prefill case and a KV-cache decode, both op flavours.

import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AnyNode, Graph, Value } from '../../ir/graph.js';
import { referenceRunner, runCase, type ModelRunner } from '../runner.js';
import { loadGolden } from '../../verify/golden.js';
import { maxAbsError, top1Agreement } from '../../verify/metrics.js';
import { onnxTarget } from './index.js';
import { compileContext, openFixture, prefillThenDecode, QUANT_REL_TOL, quantizeGraph, REPO, tempDir, testQuantConfig, type TestQuant } from './onnx.test-helpers.js';


async function logitsOf(runner: ModelRunner, cases: readonly { inputIds: readonly number[]; startPosition: number }[], decode: readonly number[]): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const c of cases) out.push(await runCase(runner, c.inputIds, c.startPosition));
  if (decode.length === 0) return out;
  return [...out, ...(await prefillThenDecode(runner, decode.slice(0, 4), decode.slice(4)))];
}

function relErr(ref: Float32Array, got: Float32Array): number {
  let scale = 0;
  for (const v of ref) scale = Math.max(scale, Math.abs(v));
  return maxAbsError(ref, got) / scale;
}

const CASES: [string, TestQuant][] = [
  ['stories260K', 'int4'],
  ['stories260K', 'int4-sym'],
  ['stories260K', 'int8'],
  ['llama32-tiny', 'int4'],
  ['llama32-tiny', 'int8'],
  ['llama32-tiny-untied', 'int4'],
  ['llama32-tiny-untied', 'int8'],
];

/** The graph with the two nibbles of every byte swapped in one row of one int4 matrix: a packing-order bug confined to one row. */
function swapNibblesInOneRow(graph: Graph, weightName: string, row: number): Graph {
  const swap = (v: Value): Value => {
    if (v.name !== weightName || v.param?.kind !== 'quantized') return v;
    const m = v.param.matrix;
    const data = Uint8Array.from(m.data as Uint8Array);
    const rowBytes = data.length / m.rows;
    for (let i = row * rowBytes; i < (row + 1) * rowBytes; i++) data[i] = ((data[i] & 15) << 4) | (data[i] >> 4);
    return { ...v, param: { ...v.param, matrix: { ...m, data } } };
  };
  return { ...graph, nodes: graph.nodes.map((n) => ({ ...n, inputs: n.inputs.map(swap) }) as AnyNode), params: graph.params.map(swap) };
}

describe('the quantized tolerance has teeth', () => {
  it('one row of q_proj with swapped nibbles exceeds QUANT_REL_TOL', async () => {
    const { ck, graph } = openFixture('stories260K');
    const qgraph = await quantizeGraph(graph, ck, 'int4');
    const broken = swapNibblesInOneRow(qgraph, 'model.layers.0.self_attn.q_proj.weight', 5);
    const golden = loadGolden(join(REPO, 'golden', 'stories260K'));
    const dir = tempDir('teeth');
    try {
      const ctx = compileContext(ck, { onnxOps: 'ort' }, testQuantConfig('int4'));
      await onnxTarget.emit(broken, dir, ctx);
      const runner = await onnxTarget.load(dir, broken, ctx);
      const got = await logitsOf(runner, golden.cases, []);
      await runner.dispose();
      const ref = await logitsOf(referenceRunner(qgraph, ck), golden.cases, []);
      const worst = Math.max(...ref.map((r, i) => relErr(r, got[i])));
      if (process.env.LLAMAC_TEST_VERBOSE) console.log(`one row of swapped nibbles: max rel err ${worst.toExponential(2)}`);
      expect(worst).toBeGreaterThan(10 * QUANT_REL_TOL);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.each(['ort', 'standard'])('onnx %s ops, quantized', (ops) => {
  it.each(CASES)('%s %s matches the reference interpreter on the same bits', async (fixture, q) => {
    const { ck, graph } = openFixture(fixture);
    const qgraph = await quantizeGraph(graph, ck, q);
    const ctx = compileContext(ck, { onnxOps: ops }, testQuantConfig(q));
    const golden = loadGolden(join(REPO, 'golden', fixture));
    const decode = golden.cases.find((c) => c.name === 'long')?.inputIds.slice(0, 10) ?? [];
    const dir = tempDir(`${fixture}-${ops}-${q}`);
    try {
      await onnxTarget.emit(qgraph, dir, ctx);
      const runner = await onnxTarget.load(dir, qgraph, ctx);
      const got = await logitsOf(runner, golden.cases, decode);
      await runner.dispose();
      const ref = await logitsOf(referenceRunner(qgraph, ck), golden.cases, decode);
      const errs = ref.map((r, i) => relErr(r, got[i]));
      const worst = Math.max(...errs);
      // Quality against transformers' float goldens, for the record (quantization error, not target error).
      const top1 = golden.cases.map((c, i) => top1Agreement(c.logits, got[i], golden.vocab));
      if (process.env.LLAMAC_TEST_VERBOSE) console.log(`${fixture} ${q} ${ops}: max rel err vs interpreter ${worst.toExponential(2)}; top1 vs golden ${top1.map((t) => t.toFixed(2)).join(' ')}`);
      expect(worst).toBeLessThanOrEqual(QUANT_REL_TOL);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
