// The reference target: the interpreter itself. Its "artifact" is the final IR text, so
// `llamac compile --target reference` shows exactly what every other target must match. It is the
// example README.md's "Adding a target" walks through: options, lowering table, bounds, emit, load.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { INTERPRETER_OPS, type InterpreterFns } from '../interpreter/interpreter.js';
import { printGraph } from '../ir/printer.js';
import { DEFAULT_PIPELINE } from '../passes/registry.js';
import { FLOAT32_THRESHOLDS, type Thresholds } from '../verify/verify.js';
import type { LoweringTable } from './lowering.js';
import { referenceRunner } from './runner.js';
import { defineTarget, type VerifyBounds } from './target.js';

export const REFERENCE_OPTIONS = {
  actQuant: {
    flag: 'act-quant',
    kind: 'enum',
    values: ['none', 'int8'],
    default: 'none',
    help: 'reference target: activations of quantized matmuls as the NEON/WGSL q8 kernels see them (int8 per block of 32) or float32 (none)',
  },
} as const;

/** The interpreter runs every op (a target that cannot writes reject('why') for that op). */
const LOWERING: LoweringTable<InterpreterFns> = INTERPRETER_OPS;

/**
 * Sanity bounds of a quantized graph against transformers' float logits: they catch a broken
 * quantizer (KL of unrelated logits is several nats), not a slightly worse one. Top-1 and greedy
 * agreement are reported only: the random-weight fixtures have near-flat distributions whose
 * argmax flips under any 4-bit noise. Quantization quality is measured as perplexity on
 * stories260K (bench/RESULTS.md).
 */
function sanity(label: string, maxKl: number): Thresholds {
  return { label, maxAbs: null, minTop1: null, maxKl, greedyMatch: 0 };
}

const BOUNDS: VerifyBounds = {
  // Measured max abs error, every case incl. far (positions 100000+): llama32-tiny 1.0e-5,
  // llama32-tiny-untied 6.6e-6, stories260K 6.2e-6; greedy tokens identical.
  f32: { golden: FLOAT32_THRESHOLDS, vsReference: null },
  // f16 is a storage choice of targets: the IR, hence the interpreter, keeps float32 numbers, so the
  // interpreter at --quant f16 is the f32 interpreter (the same graph, the same measurements).
  f16: { golden: FLOAT32_THRESHOLDS, vsReference: null },
  // Worst per-case KL measured (llama32-tiny-untied, llama32-tiny, stories260K): float activations
  // 4.8e-3, 3.9e-3, 7.0e-4; int8 activations (--act-quant int8) 9.5e-3, 8.4e-3, 1.3e-3.
  int8: { golden: sanity('int8 sanity', 0.02), vsReference: null },
  // Worst KL measured 0.56 (default AWQ+GPTQ); RTN 0.56, 0.53, 0.23 with float activations and
  // 0.56, 0.55, 0.22 with int8 activations. A broken quantizer gives several nats.
  int4: { golden: sanity('int4 sanity', 1.0), vsReference: null },
  // Worst KL measured 0.69 (llama32-tiny-untied) with float and with int8 activations.
  q4_0: { golden: sanity('q4_0 sanity', 1.0), vsReference: null },
};

export const referenceTarget = defineTarget({
  name: 'reference',
  description: 'the interpreter itself (the oracle); the artifact is the final IR text',
  options: REFERENCE_OPTIONS,
  pipeline: DEFAULT_PIPELINE,
  lowering: () => LOWERING,
  bounds: BOUNDS,
  // The reference is not compared with itself.
  referenceMode: (o) => ({ actQuant: o.actQuant }),
  emit: async (graph, outDir) => {
    writeFileSync(join(outDir, 'model.ir'), printGraph(graph));
  },
  load: async (_dir, graph, ctx, o) => referenceRunner(graph, ctx.reader, { actQuant: o.actQuant }),
});
