// The ARM NEON target: lowers the fused, quantized IR to an op list over kernels-arm, writes
// weights.bin (program + packed weights, mmapped at run time), the generic C runtime, llamac-run and
// build files. See README.md in this folder.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Graph } from '../../ir/graph.js';
import { DEFAULT_PIPELINE } from '../../passes/registry.js';
import { FLOAT32_THRESHOLDS, type Thresholds } from '../../verify/verify.js';
import type { OptionValues } from '../options.js';
import type { ModelRunner } from '../runner.js';
import { defineTarget, type CompileContext, type QuantBounds, type VerifyBounds } from '../target.js';
import { readPresets, writeManifest, writeSupportFiles } from './artifact.js';
import { formatProgram, lowerGraph, NEON_LOWERING } from './lower.js';
import { buildRunner, NeonProcess } from './runner.js';
import { FORMAT_VERSION, writeWeights } from './weights.js';

export const DEFAULT_MAX_SEQ = 4096;

const PRESETS = readPresets();

export const NEON_OPTIONS = {
  cpu: {
    flag: 'cpu',
    kind: 'enum',
    values: PRESETS.map((p) => p.name),
    default: 'generic',
    help: 'neon target: CPU preset from kernels-arm/presets.mk (compiler flags of the common files; the kernels still dispatch at run time)',
  },
  maxSeq: {
    flag: 'max-seq',
    kind: 'int',
    min: 0,
    max: 1 << 24,
    default: 0,
    help: 'neon target: KV cache length in tokens (0 = min(4096, the model context))',
  },
  kvDtype: {
    flag: 'kv-dtype',
    kind: 'enum',
    values: ['f32', 'f16'],
    default: 'f32',
    help: 'neon target: KV cache element type',
  },
} as const;

export type NeonOptionValues = OptionValues<typeof NEON_OPTIONS>;

export function maxSeqOf(o: NeonOptionValues, graph: Graph): number {
  return o.maxSeq === 0 ? Math.min(DEFAULT_MAX_SEQ, graph.info.maxPositions) : o.maxSeq;
}

async function emitNeonArtifact(graph: Graph, outDir: string, ctx: CompileContext, o: NeonOptionValues): Promise<void> {
  const preset = PRESETS.find((p) => p.name === o.cpu);
  if (!preset) throw new Error(`internal: preset ${o.cpu} vanished`);
  const maxSeq = maxSeqOf(o, graph);
  const kvDtype = o.kvDtype === 'f16' ? 'f16' : 'f32';
  const floatDtype = ctx.quant.name === 'f16' ? 'f16' : 'f32';
  const program = lowerGraph(graph, { floatDtype });
  const bytes = writeWeights(join(outDir, 'weights.bin'), program, ctx.reader, { maxSeq, kvDtype, floatDtype });
  ctx.log(`neon: ${program.ops.length} ops, ${program.slots.length} activation buffers, ${program.tensors.length} tensors, weights.bin ${(bytes / 2 ** 20).toFixed(2)} MiB`);
  const options = { ...ctx.recordedOptions, cpu: preset.name, maxSeq, kvDtype };
  writeSupportFiles(outDir, graph.info, preset, ctx.checkpointDir, options);
  writeFileSync(join(outDir, 'program.txt'), formatProgram(program));
  writeManifest(outDir, graph.info, options, {
    weights_format_version: FORMAT_VERSION,
    program: { ops: program.ops.length, slots: program.slots, tensors: program.tensors.length, layers: program.layers },
  });
}

/** The artifact's llamac-run in one long-lived process (under qemu-aarch64 off ARM); the cache lives there. */
export async function neonRunner(artifactDir: string, log: (m: string) => void, cpu?: string, path?: string): Promise<ModelRunner> {
  const bin = buildRunner(artifactDir, log);
  const proc = new NeonProcess(bin, artifactDir, { cpu, path });
  const vocab = await proc.vocab;
  let pendingReset = false;
  let nextPos = 0;
  const before = async (): Promise<void> => {
    if (!pendingReset) return;
    pendingReset = false;
    await proc.reset();
  };
  return {
    target: 'neon',
    vocabSize: vocab,
    prefill: async (ids, startPos) => {
      await before();
      const start = startPos ?? nextPos;
      const logits = await proc.prefill(ids, start);
      nextPos = start + ids.length;
      return logits;
    },
    decode: async (id) => {
      await before();
      const logits = await proc.decode(id);
      nextPos++;
      return logits;
    },
    reset: () => {
      pendingReset = true;
      nextPos = 0;
    },
    dispose: () => proc.close(),
  };
}

/**
 * int8/int4/q4_0: kernels-arm quantizes activations to int8 per block of 32, so the artifact is held
 * to the interpreter in that mode (--act-quant int8) on the same quantized graph: the same integer
 * block sums, scaled in float32 by the kernels and float64 by the interpreter. Most logit rows agree
 * to 1e-5 (measured worst 9.5e-6 on rows without a flip; the median row is ~5e-6). But the two
 * compute the activations themselves in different precision (float32 NEON norms, attention and
 * SwiGLU vs the interpreter's float64), so now and then one activation lands on the other side of an
 * int8 rounding boundary; once in the KV cache, that moves later tokens a little and they flip more.
 * Measured worst over every case and greedy step of the three fixtures (RTN; with and without int8
 * embeddings): max abs 0.244 (stories260K int8), mean KL 1.5e-4 (stories260K int4); greedy tokens
 * identical. Against float activations the same artifacts measure 0.66 and KL 4e-3 (greedy differs
 * on llama32-tiny-untied), and neon.test.ts also checks that the median row is far closer to the
 * int8-activation reference than to the float one. The 1e-3 the issue asked for is not met: that
 * needs the interpreter to reproduce kernels-arm's float32 arithmetic op by op.
 */
function heldToInterpreter(quant: string): QuantBounds {
  const t: Thresholds = { label: `neon vs reference, int8 activations (${quant})`, maxAbs: 0.5, minTop1: null, maxKl: 1e-3, greedyMatch: 1 };
  return { golden: null, vsReference: t };
}

const NEON_BOUNDS: VerifyBounds = {
  // Measured worst max abs logit error, every case incl. far (positions 100000+) and the greedy
  // steps: llama32-tiny 2.6e-5, llama32-tiny-untied 3.3e-5, stories260K 1.6e-5; greedy identical.
  f32: { golden: FLOAT32_THRESHOLDS, vsReference: null },
  // Matrices (and the embedding table) stored as float16: measured worst max abs 1.6e-2 (stories260K;
  // the tiny fixtures 3.6e-5), top-1 1.0, KL 7.5e-7, greedy identical. (--kv-dtype f16 is a lossy
  // cache, not held to these: 3.9e-2 on stories260K with f32 weights.)
  f16: { golden: { label: 'f16 weights', maxAbs: 2e-2, minTop1: 0.95, maxKl: 1e-3, greedyMatch: 0.95 }, vsReference: null },
  int8: heldToInterpreter('int8'),
  int4: heldToInterpreter('int4'),
  q4_0: heldToInterpreter('q4_0'),
};

export const neonTarget = defineTarget({
  name: 'neon',
  description: 'a C model on kernels-arm for ARM NEON (weights.bin + runtime + llamac-run, Makefile / CMake), run under qemu-aarch64 off ARM',
  options: NEON_OPTIONS,
  pipeline: DEFAULT_PIPELINE,
  lowering: () => NEON_LOWERING,
  bounds: NEON_BOUNDS,
  referenceMode: () => ({ actQuant: 'int8' }),
  emit: emitNeonArtifact,
  load: async (artifactDir, _graph, ctx) => neonRunner(artifactDir, ctx.log),
});
