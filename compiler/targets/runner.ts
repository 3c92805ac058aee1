// What verify and eval need from any target: run the model's graph contract (ids, positions,
// past k/v -> logits, present k/v). The reference interpreter and each compiled artifact implement it.

import type { ForwardResult, RtTensor } from '../interpreter/interpreter.js';
import { ReferenceModel } from '../interpreter/interpreter.js';
import type { Graph } from '../ir/graph.js';
import type { TensorReader } from '../ir/materialize.js';

export interface ModelRunner {
  readonly target: string;
  readonly vocabSize: number;
  forward(ids: Int32Array, positions: Int32Array, past: readonly RtTensor[]): Promise<ForwardResult>;
  emptyCache(): RtTensor[];
  dispose(): Promise<void>;
}

export function referenceRunner(graph: Graph, reader: TensorReader): ModelRunner {
  const model = new ReferenceModel(graph, reader);
  return {
    target: 'reference',
    vocabSize: graph.info.vocabSize,
    forward: async (ids, positions, past) => model.forward(ids, positions, past),
    emptyCache: () => model.emptyCache(),
    dispose: async () => {},
  };
}

/** Prefill/decode over any runner, carrying its cache. */
export class RunnerSession {
  private cache: RtTensor[];
  private position = 0;

  constructor(private readonly runner: ModelRunner) {
    this.cache = runner.emptyCache();
  }

  async prefill(ids: readonly number[], start = this.position): Promise<Float32Array> {
    const pos = Int32Array.from(ids, (_, i) => start + i);
    const r = await this.runner.forward(Int32Array.from(ids), pos, this.cache);
    this.cache = r.present;
    this.position = start + ids.length;
    return r.logits;
  }

  async step(token: number): Promise<Float32Array> {
    return this.prefill([token]);
  }
}
