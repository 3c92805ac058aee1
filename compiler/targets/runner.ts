// What verify and eval need from any target: a stateful runner that holds its own KV cache in its
// own layout (a C or GPU runtime keeps it on its side). The reference interpreter and each
// compiled artifact implement it.

import { KvSession, ReferenceModel } from '../interpreter/interpreter.js';
import type { InterpreterOptions } from '../interpreter/kernels.js';
import type { Graph } from '../ir/graph.js';
import type { TensorReader } from '../ir/materialize.js';

export interface ModelRunner {
  readonly target: string;
  readonly vocabSize: number;
  /**
   * Runs `ids` after the tokens already in the cache, at RoPE positions startPos.. (default: right
   * after them), and keeps their keys/values. Returns logits [ids.length, vocab]. After reset(),
   * prefill(ids, p) is a case started at position p with an empty cache (the goldens' `far` case).
   */
  prefill(ids: readonly number[], startPos?: number): Promise<Float32Array>;
  /** One token at the next position; returns its logits row [vocab]. */
  decode(id: number): Promise<Float32Array>;
  /** Empties the cache; the next prefill starts at position 0 unless told otherwise. */
  reset(): void;
  /** Frees the runtime (sessions, buffers). The runner is not used afterwards. */
  dispose(): Promise<void>;
}

/** The interpreter as a runner; `mode` selects its kernels' options (int8 activations). */
export function referenceRunner(graph: Graph, reader: TensorReader, mode?: InterpreterOptions): ModelRunner {
  const model = new ReferenceModel(graph, reader, mode);
  let session = new KvSession(model);
  return {
    target: mode?.actQuant === 'int8' ? 'reference (int8 activations)' : 'reference',
    vocabSize: graph.info.vocabSize,
    prefill: async (ids, startPos) => session.prefill(ids, startPos),
    decode: async (id) => session.step(id),
    reset: () => {
      session = new KvSession(model);
    },
    dispose: async () => {},
  };
}

/** A fresh case: empty cache, then `ids` at positions start.. (what every golden case is). */
export async function runCase(runner: ModelRunner, ids: readonly number[], start = 0): Promise<Float32Array> {
  runner.reset();
  return runner.prefill(ids, start);
}
