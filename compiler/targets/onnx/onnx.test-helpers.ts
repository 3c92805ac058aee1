// Shared by the ONNX target's tests (test-only: excluded from dist/ by tsconfig.json): open a
// fixture, build a CompileContext, and quantize a graph through the real quantize pass
// (passes/quantize.ts), so the artifact and the reference interpreter run the very same bits.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCheckpoint, type Checkpoint } from '../../checkpoint/checkpoint.js';
import { importLlama } from '../../frontend/llama.js';
import type { Graph } from '../../ir/graph.js';
import type { TensorReader } from '../../ir/materialize.js';
import { makeQuantConfig, NO_QUANT, type QuantConfig, type QuantName } from '../../passes/quant-config.js';
import { runPipeline } from '../../pipeline.js';
import type { ModelRunner } from '../runner.js';
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

/** The quantize pass's config for a test quantization: RTN (fast), embedding table (and a tied lm_head) too. */
export function testQuantConfig(q: TestQuant): QuantConfig {
  if (q === 'int8') return makeQuantConfig({ quant: 'int8', quantEmbeddings: 'int8' });
  return makeQuantConfig({ quant: 'int4', method: 'rtn', symmetric: q === 'int4-sym', quantEmbeddings: 'int4' });
}

/** Every linear weight and the embedding table quantized by passes/quantize.ts (unfused graph). */
export async function quantizeGraph(graph: Graph, reader: TensorReader, q: TestQuant): Promise<Graph> {
  return runPipeline(graph, ['quantize'], { reader, quant: testQuantConfig(q), log: () => {} });
}

/** A fresh case, then `decode` tokens one at a time through the runner's own cache. */
export async function prefillThenDecode(runner: ModelRunner, prompt: readonly number[], decode: readonly number[]): Promise<Float32Array[]> {
  runner.reset();
  const out = [await runner.prefill(prompt)];
  for (const t of decode) out.push(await runner.decode(t));
  return out;
}
