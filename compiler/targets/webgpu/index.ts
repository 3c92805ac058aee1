// The WebGPU target: `llamac compile --target webgpu` writes a folder a browser (or Node with the
// `webgpu` package) loads with its bundled runtime. See README.md in this folder.

import { FLOAT32_THRESHOLDS, type Thresholds } from '../../verify/verify.js';
import { DEFAULT_PIPELINE } from '../../passes/registry.js';
import { defineTarget, type QuantBounds, type VerifyBounds } from '../target.js';
import { emitWebGpu } from './emit.js';
import { DEFAULT_LOWER, WEBGPU_LOWERINGS } from './lower.js';
import { webgpuRunner } from './runner.js';

export const WEBGPU_OPTIONS = {
  context: {
    flag: 'webgpu-context',
    kind: 'int',
    min: 16,
    max: 131072,
    default: DEFAULT_LOWER.contextLength,
    help: 'webgpu target: default KV cache length in tokens (capped at the model\'s max positions; load() may pick another)',
  },
  activations: {
    flag: 'webgpu-activations',
    kind: 'enum',
    values: ['float', 'int8'],
    default: 'float',
    help: 'webgpu target: x of int4/int8 matmuls as float32 (matches the interpreter) or int8 per block of 32 (packed dot products; matches the reference target with int8 activations)',
  },
  prefillChunk: {
    flag: 'webgpu-prefill-chunk',
    kind: 'int',
    min: 1,
    max: 4096,
    default: DEFAULT_LOWER.maxTokens,
    help: 'webgpu target: tokens per prefill submission (activation buffers are sized for it)',
  },
} as const;

/**
 * Quantized artifacts run the interpreter's exact bits (the packer repacks, never re-quantizes) in
 * float32 with another summation order. Measured worst max abs logit error against the
 * interpreter over every case and greedy step (lavapipe, 2026-12-04): int8 2.9e-5 (stories260K),
 * int4 2.9e-5 (stories260K RTN), int4 symmetric + int4 embeddings 2.3e-5 (llama32-tiny-untied);
 * greedy tokens identical. Against transformers: reported only (quantization error).
 */
function heldToInterpreter(quant: string): QuantBounds {
  const t: Thresholds = { label: `webgpu vs reference (${quant})`, maxAbs: 1e-3, minTop1: null, maxKl: null, greedyMatch: 1 };
  return { golden: null, vsReference: t };
}

const BOUNDS: VerifyBounds = {
  // Measured worst max abs error, every case incl. far (positions 100000+): llama32-tiny 3.2e-5,
  // llama32-tiny-untied 2.2e-5, stories260K 1.7e-5; greedy decode identical (lavapipe).
  f32: { golden: FLOAT32_THRESHOLDS, vsReference: null },
  // Matrices stored as float16 (the kernels widen them to f32), the ONNX target's f16 bound.
  // Measured (stories260K): max abs 1.6e-2, top-1 1.0, KL 7.5e-7, greedy 64/64.
  f16: { golden: { label: 'f16 weights', maxAbs: 2e-2, minTop1: 0.95, maxKl: 1e-3, greedyMatch: 0.95 }, vsReference: null },
  int8: heldToInterpreter('int8'),
  int4: heldToInterpreter('int4'),
  q4_0: heldToInterpreter('q4_0'),
};

/**
 * --webgpu-activations int8, held to the interpreter's act-quant mode (x int8 per block of 32, the
 * same rounding). They differ only where an upstream float differs by an ulp at a rounding midpoint
 * and one int8 step flips: measured worst max abs 0.21 (stories260K long, int4 RTN), 7.4e-2
 * (llama32-tiny-untied), KL <= 1.5e-4, greedy identical. f32/f16 weights have no int8 path.
 */
function heldToActQuant(quant: string): QuantBounds {
  const t: Thresholds = { label: `webgpu int8 activations vs reference --act-quant int8 (${quant})`, maxAbs: 0.5, minTop1: null, maxKl: 1e-3, greedyMatch: 1 };
  return { golden: null, vsReference: t };
}

const INT8_ACTIVATION_BOUNDS: VerifyBounds = { ...BOUNDS, int8: heldToActQuant('int8'), int4: heldToActQuant('int4'), q4_0: heldToActQuant('q4_0') };

export const webgpuTarget = defineTarget({
  name: 'webgpu',
  description: 'a folder with WGSL kernels, weight shards and an ES module runtime for browsers and Node (Dawn)',
  options: WEBGPU_OPTIONS,
  pipeline: DEFAULT_PIPELINE,
  lowering: () => WEBGPU_LOWERINGS,
  bounds: BOUNDS,
  boundsFor: (o) => (o.activations === 'int8' ? INT8_ACTIVATION_BOUNDS : BOUNDS),
  // int8 activations are compared like for like with the interpreter quantizing x the same way
  referenceMode: (o) => ({ actQuant: o.activations === 'int8' ? 'int8' : 'none' }),
  emit: async (graph, outDir, ctx, o) => {
    const s = emitWebGpu(graph, outDir, ctx, { lower: { ...DEFAULT_LOWER, contextLength: o.context, maxTokens: o.prefillChunk, activations: o.activations } });
    ctx.log(`webgpu: ${(s.weightBytes / 2 ** 20).toFixed(1)} MiB of weights in ${s.shards} shard(s); ${s.steps.decode} steps per decoded token, ${s.steps.prefill} per prefill chunk`);
  },
  load: async (dir) => webgpuRunner(dir),
});
