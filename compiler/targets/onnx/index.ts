// The ONNX target: an artifact folder onnxruntime, onnxruntime-genai and transformers.js load as is.
// See README.md in this folder for layout, op flavours, opsets and tolerances.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Graph } from '../../ir/graph.js';
import { elementCount } from '../../ir/types.js';
import { DEFAULT_PIPELINE } from '../../passes/registry.js';
import type { CompileContext, Target } from '../target.js';
import { checkpointFilesOf, copyTokenizerFiles, genaiConfig, GENAI_CONFIG_FILE, writeManifest } from './artifact.js';
import { DATA_FILE, emitModel, type EmitStats } from './emit.js';
import { hashInBackground } from './sha256.js';
import { parseOnnxOptions } from './options.js';
import { artifactAccuracyLevel, onnxRunner } from './runner.js';

export { OPTION_KEYS, OPSETS } from './options.js';
export { PPL_TOL, QUANT_REL_TOL } from './tolerances.js';

/** Weights the model holds (a tied table counts once), for bits-per-parameter. */
export function parameterCount(graph: Graph): number {
  let n = 0;
  for (const p of graph.params) n += elementCount(p.type.shape.map(Number));
  return n;
}

export async function emitOnnxArtifact(graph: Graph, outDir: string, ctx: CompileContext): Promise<void> {
  const opts = parseOnnxOptions(ctx.options, ctx.quant);
  // The source checkpoint's sha256 (GBs) is computed on the other core while this one writes.
  const ckHashes = hashInBackground(checkpointFilesOf(ctx.checkpointDir).map((f) => join(ctx.checkpointDir, f)));
  let stats: EmitStats;
  try {
    stats = emitModel(graph, outDir, ctx.reader, opts, ctx.progress);
  } catch (e) {
    ckHashes.cancel();
    throw e;
  }
  ctx.log(`onnx: ${stats.nodeCount} nodes, ${(stats.dataBytes / 2 ** 20).toFixed(1)} MiB of weights (${opts.ops} ops, dense matrices ${opts.matrixDtype})`);
  writeFileSync(join(outDir, GENAI_CONFIG_FILE), JSON.stringify(genaiConfig(graph.info), null, 2) + '\n');
  copyTokenizerFiles(ctx.checkpointDir, outDir);
  writeManifest(outDir, {
    info: graph.info,
    opts,
    targetOptions: ctx.options,
    recordedOptions: ctx.recordedOptions,
    quant: ctx.quant.name,
    checkpointDir: ctx.checkpointDir,
    parameters: parameterCount(graph),
    dataBytes: stats.dataBytes,
    opTypes: stats.opTypes,
    knownHashes: new Map([...(await ckHashes.result()), [join(outDir, DATA_FILE), stats.dataSha256]]),
  });
}

export const onnxTarget: Target = {
  name: 'onnx',
  pipeline: DEFAULT_PIPELINE,
  emit: emitOnnxArtifact,
  load: async (artifactDir, graph) => onnxRunner(artifactDir, graph, { accuracyLevel: artifactAccuracyLevel(artifactDir) }),
};
