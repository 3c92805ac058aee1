// Runs an emitted artifact in onnxruntime-node (CPU) behind the ModelRunner contract: batch 1,
// attention_mask all ones over past + seq, caches [kvh, len, d] in, [1, kvh, len, d] for ORT.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { RtTensor } from '../../interpreter/interpreter.js';
import type { Graph } from '../../ir/graph.js';
import type { ModelRunner } from '../runner.js';
import { MANIFEST_FILE } from './artifact.js';
import { IO_NAMES, MODEL_FILE } from './emit.js';
import { LlamacError } from '../../errors.js';

export interface OnnxSessionOptions {
  /** MatMulNBits accuracy level for DequantizeLinear+MatMul pairs onnxruntime fuses (standard flavour). */
  readonly accuracyLevel: number;
  readonly intraOpThreads?: number;
}

/** The accuracy level the artifact was compiled with (manifest.json), so both flavours compute alike. */
export function artifactAccuracyLevel(dir: string): number {
  const file = join(dir, MANIFEST_FILE);
  if (!existsSync(file)) return 0;
  const m = JSON.parse(readFileSync(file, 'utf8')) as { target_options?: { onnxAccuracyLevel?: string } };
  return Number(m.target_options?.onnxAccuracyLevel ?? '0');
}

export async function createSession(dir: string, opts: OnnxSessionOptions): Promise<ort.InferenceSession> {
  const model = join(dir, MODEL_FILE);
  if (!existsSync(model)) throw new LlamacError(`${dir}: no ${MODEL_FILE}`);
  return ort.InferenceSession.create(model, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    ...(opts.intraOpThreads ? { intraOpNumThreads: opts.intraOpThreads } : {}),
    // onnxruntime fuses blocked DequantizeLinear + MatMul into MatMulNBits with this level (its default is 4).
    extra: { session: { qdq_matmulnbits_accuracy_level: String(opts.accuracyLevel) } },
  });
}

function int64(values: ArrayLike<number>, dims: readonly number[]): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.from(Array.from(values), (v) => BigInt(v)), dims);
}

function floats(t: ort.Tensor, what: string): Float32Array {
  if (!(t.data instanceof Float32Array)) throw new Error(`internal: ${what} is ${t.type}, expected float32`);
  return t.data;
}

export async function onnxRunner(dir: string, graph: Graph, opts: OnnxSessionOptions): Promise<ModelRunner> {
  const session = await createSession(dir, opts);
  const { numLayers, numKvHeads, headDim, vocabSize } = graph.info;
  return {
    target: 'onnx',
    vocabSize,
    forward: async (ids, positions, past) => {
      const S = ids.length;
      if (past.length !== 2 * numLayers) throw new Error(`expected ${2 * numLayers} past tensors, got ${past.length}`);
      const P = past[0].shape[1];
      const feeds: Record<string, ort.Tensor> = {
        [IO_NAMES.inputIds]: int64(ids, [1, S]),
        [IO_NAMES.attentionMask]: int64(new Array<number>(P + S).fill(1), [1, P + S]),
        [IO_NAMES.positionIds]: int64(positions, [1, S]),
      };
      for (let i = 0; i < numLayers; i++) {
        for (const [j, name] of [IO_NAMES.pastKey(i), IO_NAMES.pastValue(i)].entries()) {
          const t = past[2 * i + j];
          if (!(t.data instanceof Float32Array)) throw new TypeError('past k/v must be float32');
          feeds[name] = new ort.Tensor('float32', t.data, [1, numKvHeads, t.shape[1], headDim]);
        }
      }
      const r = await session.run(feeds);
      const present: RtTensor[] = [];
      for (let i = 0; i < numLayers; i++) {
        for (const name of [IO_NAMES.presentKey(i), IO_NAMES.presentValue(i)]) {
          const t = r[name];
          present.push({ shape: [numKvHeads, Number(t.dims[2]), headDim], data: floats(t, name) });
        }
      }
      const taps = graph.outputs.slice(1 + 2 * numLayers).map((v) => {
        const t = r[`tap.${v.name}`];
        return { shape: t.dims.slice(1).map(Number), data: floats(t, v.name) };
      });
      return { logits: floats(r[IO_NAMES.logits], IO_NAMES.logits), present, taps };
    },
    emptyCache: () => Array.from({ length: 2 * numLayers }, () => ({ shape: [numKvHeads, 0, headDim], data: new Float32Array(0) })),
    dispose: async () => session.release(),
  };
}
