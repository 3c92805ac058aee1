// The ARM NEON target: lowers the fused, quantized IR to an op list over kernels-arm, writes
// weights.bin (program + packed weights, mmapped at run time), the generic C runtime, llamac-run and
// build files. See README.md in this folder.

import { join } from 'node:path';
import { LlamacError } from '../../errors.js';
import type { Graph } from '../../ir/graph.js';
import type { RtTensor } from '../../interpreter/interpreter.js';
import { DEFAULT_PIPELINE } from '../../passes/registry.js';
import type { ModelRunner } from '../runner.js';
import type { CompileContext, Target } from '../target.js';
import { readPresets, writeManifest, writeSupportFiles, type Preset } from './artifact.js';
import { lowerGraph } from './lower.js';
import { buildRunner, NeonProcess } from './runner.js';
import { FORMAT_VERSION, writeWeights } from './weights.js';

export interface NeonOptions {
  readonly cpu: Preset;
  readonly maxSeq: number;
  readonly kvDtype: 'f16' | 'f32';
}

export const DEFAULT_MAX_SEQ = 4096;

/** Target options from the CLI (--cpu, --max-seq, --kv-dtype), validated. */
export function parseNeonOptions(options: Readonly<Record<string, string>>, graph: Graph): NeonOptions {
  const presets = readPresets();
  const cpuName = options['cpu'] ?? 'generic';
  const cpu = presets.find((p) => p.name === cpuName);
  if (!cpu) throw new LlamacError(`--cpu: unknown preset '${cpuName}' (known: ${presets.map((p) => p.name).join(', ')})`);
  const context = graph.info.maxPositions;
  const maxSeqText = options['maxSeq'];
  const maxSeq = maxSeqText === undefined ? Math.min(DEFAULT_MAX_SEQ, context) : Number(maxSeqText);
  if (!Number.isInteger(maxSeq) || maxSeq < 1 || maxSeq > 1 << 24) throw new LlamacError(`--max-seq: '${maxSeqText}' is not a whole number of tokens in 1..16777216`);
  const kvDtype = options['kvDtype'] ?? 'f32';
  if (kvDtype !== 'f32' && kvDtype !== 'f16') throw new LlamacError(`--kv-dtype: '${kvDtype}' is not f32 or f16`);
  return { cpu, maxSeq, kvDtype };
}

export async function emitNeonArtifact(graph: Graph, outDir: string, ctx: CompileContext): Promise<void> {
  const o = parseNeonOptions(ctx.options, graph);
  const floatDtype = ctx.quant.name === 'f16' ? 'f16' : 'f32';
  const program = lowerGraph(graph, { floatDtype });
  const bytes = writeWeights(join(outDir, 'weights.bin'), program, ctx.reader, { maxSeq: o.maxSeq, kvDtype: o.kvDtype, floatDtype });
  ctx.log(`neon: ${program.ops.length} ops, ${program.slots.length} activation buffers, ${program.tensors.length} tensors, weights.bin ${(bytes / 2 ** 20).toFixed(2)} MiB`);
  const options = { ...ctx.recordedOptions, cpu: o.cpu.name, maxSeq: o.maxSeq, kvDtype: o.kvDtype };
  writeSupportFiles(outDir, graph.info, o.cpu, ctx.checkpointDir, options);
  writeManifest(outDir, graph.info, options, {
    weights_format_version: FORMAT_VERSION,
    program: { ops: program.ops.length, slots: program.slots, tensors: program.tensors.length, layers: program.layers },
  });
}

/**
 * verify/eval drive the artifact through the cache-passing ModelRunner contract; the cache lives in
 * the llamac-run process, so `past` must be empty (a new sequence) or exactly what the previous
 * call returned (the next tokens of the same one).
 */
export async function neonRunner(artifactDir: string, graph: Graph, log: (m: string) => void): Promise<ModelRunner> {
  const bin = buildRunner(artifactDir, log);
  const proc = new NeonProcess(bin, artifactDir);
  const vocab = await proc.vocab;
  if (vocab !== graph.info.vocabSize) throw new LlamacError(`--target neon: artifact vocab ${vocab}, graph ${graph.info.vocabSize}`);
  const { numLayers, numKvHeads, headDim } = graph.info;
  let state: RtTensor[] = [];
  let nextPos = 0;
  const marker = (total: number): RtTensor[] => {
    const t: RtTensor = { shape: [numKvHeads, total, headDim], data: new Float32Array(0) };
    return Array.from({ length: 2 * numLayers }, () => t);
  };
  return {
    target: 'neon',
    vocabSize: vocab,
    emptyCache: () => marker(0),
    forward: async (ids, positions, past) => {
      const start = positions[0];
      if (positions.some((p, i) => p !== start + i)) throw new Error('neon runner: positions must be consecutive');
      const continuing = past.length > 0 && past[0] === state[0] && past[0].shape[1] > 0;
      if (!continuing) {
        if (past.some((t) => t.shape[1] !== 0)) throw new Error('neon runner: the KV cache lives in llamac-run; pass an empty cache or the previous present');
        await proc.reset();
      } else if (start !== nextPos) {
        throw new Error(`neon runner: decode at position ${start}, expected ${nextPos}`);
      }
      const logits = ids.length === 1 && continuing ? await proc.decode(ids[0]) : await proc.prefill([...ids], start);
      state = marker((continuing ? past[0].shape[1] : 0) + ids.length);
      nextPos = start + ids.length;
      return { logits, present: state };
    },
    dispose: () => proc.close(),
  };
}

export const neonTarget: Target = {
  name: 'neon',
  pipeline: DEFAULT_PIPELINE,
  emit: emitNeonArtifact,
  load: async (artifactDir, graph, ctx) => neonRunner(artifactDir, graph, ctx.log),
};
