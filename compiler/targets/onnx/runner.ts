// Runs an emitted artifact in onnxruntime-node (CPU) behind the ModelRunner contract: batch 1,
// the KV cache held inside the runner as ORT tensors.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
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

/**
 * The artifact as a stateful runner. Its KV cache stays inside as the ORT tensors the session
 * returned ([1, kvh, len, d], present fed back as past), with an attention_mask of ones over
 * past + new tokens and explicit position_ids, so a case can start at any position.
 */
class OnnxRunner implements ModelRunner {
  readonly target = 'onnx';
  readonly vocabSize: number;
  private cache: ort.Tensor[] = [];
  private cached = 0;
  private position = 0;

  constructor(
    private readonly session: ort.InferenceSession,
    private readonly info: Graph['info'],
  ) {
    this.vocabSize = info.vocabSize;
    this.reset();
  }

  reset(): void {
    const { numLayers, numKvHeads, headDim } = this.info;
    this.cache = Array.from({ length: 2 * numLayers }, () => new ort.Tensor('float32', new Float32Array(0), [1, numKvHeads, 0, headDim]));
    this.cached = 0;
    this.position = 0;
  }

  async prefill(ids: readonly number[], startPos = this.position): Promise<Float32Array> {
    const S = ids.length;
    const P = this.cached;
    const feeds: Record<string, ort.Tensor> = {
      [IO_NAMES.inputIds]: int64(ids, [1, S]),
      [IO_NAMES.attentionMask]: int64(new Array<number>(P + S).fill(1), [1, P + S]),
      [IO_NAMES.positionIds]: int64(Array.from(ids, (_, i) => startPos + i), [1, S]),
    };
    for (let i = 0; i < this.info.numLayers; i++) {
      feeds[IO_NAMES.pastKey(i)] = this.cache[2 * i];
      feeds[IO_NAMES.pastValue(i)] = this.cache[2 * i + 1];
    }
    const r = await this.session.run(feeds);
    const next: ort.Tensor[] = [];
    for (let i = 0; i < this.info.numLayers; i++) {
      for (const name of [IO_NAMES.presentKey(i), IO_NAMES.presentValue(i)]) {
        floats(r[name], name);
        next.push(r[name]);
      }
    }
    this.cache = next;
    this.cached = P + S;
    this.position = startPos + S;
    return floats(r[IO_NAMES.logits], IO_NAMES.logits);
  }

  async decode(id: number): Promise<Float32Array> {
    return this.prefill([id]);
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

export async function onnxRunner(dir: string, graph: Graph, opts: OnnxSessionOptions): Promise<ModelRunner> {
  return new OnnxRunner(await createSession(dir, opts), graph.info);
}
