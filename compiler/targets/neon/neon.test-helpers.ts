// Shared by the NEON target's tests (test-only, excluded from dist/): open a fixture, quantize it
// through the real passes, emit an artifact once per configuration and reuse it.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCheckpoint } from '../../checkpoint/checkpoint.js';
import { importLlama } from '../../frontend/llama.js';
import type { Graph } from '../../ir/graph.js';
import type { TensorReader } from '../../ir/materialize.js';
import { DEFAULT_PIPELINE } from '../../passes/registry.js';
import { makeQuantConfig, type QuantConfig } from '../../passes/quant-config.js';
import { runPipeline } from '../../pipeline.js';
import type { CompileContext } from '../target.js';
import { neonTarget } from './index.js';

export const REPO = new URL('../../../', import.meta.url).pathname;

export interface BuiltArtifact {
  readonly dir: string;
  readonly graph: Graph;
  readonly reader: TensorReader;
  readonly ctx: CompileContext;
}

/** Fast test quantizations (RTN; int4 also quantizes the embedding table, so the tied lm_head is int4). */
export function testQuant(q: 'f32' | 'f16' | 'int8' | 'int4'): QuantConfig {
  if (q === 'int4') return makeQuantConfig({ quant: 'int4', method: 'rtn', quantEmbeddings: 'int4' });
  return makeQuantConfig({ quant: q });
}

/** Fused (the target's pipeline), quantized graph of a fixture, emitted into a fresh folder. */
export async function emitFixture(fixture: string, quant: QuantConfig, options: Record<string, string> = {}, fuse = true): Promise<BuiltArtifact> {
  const ck = openCheckpoint(join(REPO, 'fixtures', fixture));
  const passes = [...(fuse ? DEFAULT_PIPELINE : []), ...(quant.linear || quant.embeddings ? ['quantize'] : [])];
  const graph = await runPipeline(importLlama(ck), passes, { reader: ck, quant, log: () => {} });
  const out = mkdtempSync(join(tmpdir(), `llamac-neon-${fixture}-`));
  const ctx: CompileContext = { reader: ck, checkpointDir: ck.dir, quant, options, recordedOptions: { quant: quant.name, ...options }, log: () => {} };
  neonTarget.checkOptions(options);
  neonTarget.checkSupport(graph, options);
  await neonTarget.emit(graph, out, ctx);
  return { dir: out, graph, reader: ck, ctx };
}
