// Shared by the ONNX target's tests and bench: open a fixture, build a CompileContext, and make a
// quantized graph by swapping weight sources (what the quantize pass will do), so the artifact and
// the reference interpreter run the very same QuantizedMatrix.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCheckpoint, type Checkpoint } from '../../checkpoint/checkpoint.js';
import { importLlama } from '../../frontend/llama.js';
import type { AnyNode, Graph, Value } from '../../ir/graph.js';
import { materializeParam, type TensorReader } from '../../ir/materialize.js';
import type { QuantizedMatrix } from '../../ir/quantized.js';
import { NO_QUANT, type QuantConfig, type QuantName } from '../../passes/quant-config.js';
import { quantizeInt4 } from '../../quant/int4.js';
import { quantizeInt8 } from '../../quant/int8.js';
import type { CompileContext } from '../target.js';

export { QUANT_REL_TOL } from './tolerances.js';

export const REPO = new URL('../../../', import.meta.url).pathname;

export function openFixture(name: string): { ck: Checkpoint; graph: Graph } {
  const ck = openCheckpoint(join(REPO, 'fixtures', name));
  return { ck, graph: importLlama(ck) };
}

export function tempDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `llamac-onnx-${tag}-`));
}

export function compileContext(ck: Checkpoint, options: Record<string, string>, quant: QuantConfig = NO_QUANT): CompileContext {
  return { reader: ck, checkpointDir: ck.dir, quant, options, recordedOptions: { ...options, quant: quant.name }, log: () => {} };
}

export function quantConfig(name: QuantName): QuantConfig {
  return { ...NO_QUANT, name };
}

export type TestQuant = 'int8' | 'int4' | 'int4-sym';

function quantize(W: Float32Array, N: number, K: number, q: TestQuant): QuantizedMatrix {
  if (q === 'int8') return quantizeInt8(W, N, K);
  return quantizeInt4(W, N, K, { groupSize: 32, symmetric: q === 'int4-sym', method: 'rtn' });
}

/** Quantizes every linear weight and the embedding table (a tied lm_head is that same value). */
export function quantizeGraph(graph: Graph, reader: TensorReader, q: TestQuant): Graph {
  const targets = new Set<number>();
  for (const n of graph.nodes) {
    if (n.op === 'linear') targets.add(n.inputs[1].id);
    if (n.op === 'rms_norm_linear') targets.add(n.inputs[2].id);
    if (n.op === 'embedding') targets.add(n.inputs[0].id);
  }
  const repl = new Map<number, Value>();
  for (const p of graph.params) {
    if (!targets.has(p.id) || !p.param) continue;
    const [N, K] = p.type.shape.map(Number);
    const matrix = quantize(materializeParam(p, reader), N, K, q);
    repl.set(p.id, { ...p, param: { kind: 'quantized', matrix, from: p.param } });
  }
  const swap = (v: Value): Value => repl.get(v.id) ?? v;
  const nodes = graph.nodes.map((n) => ({ ...n, inputs: n.inputs.map(swap) }) as AnyNode);
  return { ...graph, nodes, params: graph.params.map(swap) };
}
