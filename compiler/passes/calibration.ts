// Calibration statistics for GPTQ/AWQ: run the reference interpreter on calibration token ids and
// accumulate, for each activation that feeds a quantized matmul, H = sum x x^T. Also
// self-generated calibration text (sampled from the model itself) for checkpoints shipped
// without a calibration set; it never touches evaluation data.

import { KvSession, ReferenceModel } from '../interpreter/interpreter.js';
import { rmsNorm } from '../interpreter/kernels.js';
import type { AnyNode, Graph } from '../ir/graph.js';
import type { TensorReader } from '../ir/materialize.js';
import { HessianAccumulator } from '../quant/index.js';
import type { Progress } from '../progress.js';
import { rng } from '../random.js';

/** The activation a weight multiplies: the value id of the matmul input (shared by fused q/k/v). */
export function matmulInputKey(node: AnyNode): number | null {
  if (node.op === 'linear' || node.op === 'rms_norm_linear') return node.inputs[0].id;
  return null;
}

export interface ActivationStats {
  /** H = sum x x^T over every calibration token, plus per-channel mean |x|. */
  readonly hessian: HessianAccumulator;
  /** The first rows of x seen (row-major [rows, K]), for AWQ's output-error objective. */
  readonly samples: Float32Array;
  readonly sampleRows: number;
}

/**
 * Runs every sequence through the interpreter (one prefill each) and accumulates statistics of
 * each activation in `keys` (value id -> K), keeping up to `maxSampleRows` raw rows of each.
 */
export function collectStats(
  graph: Graph,
  reader: TensorReader,
  sequences: readonly (readonly number[])[],
  keys: ReadonlyMap<number, number>,
  maxSampleRows = 0,
  progress?: Progress,
): Map<number, ActivationStats> {
  const acc = new Map<number, { hessian: HessianAccumulator; samples: Float32Array; rows: number }>();
  for (const [key, K] of keys) acc.set(key, { hessian: new HessianAccumulator(K), samples: new Float32Array(maxSampleRows * K), rows: 0 });
  const model = new ReferenceModel(graph, reader);
  for (const [i, seq] of sequences.entries()) {
    progress?.('calibrating', i, sequences.length);
    new KvSession(model).prefill(seq, 0, (node, inputs) => {
      const key = matmulInputKey(node);
      const a = key === null ? undefined : acc.get(key);
      if (!a) return;
      const x = inputs[0];
      const [S, K] = x.shape;
      let rows = x.data as Float32Array;
      // rms_norm_linear multiplies the normalized input: recompute it as the op does.
      if (node.op === 'rms_norm_linear') rows = rmsNorm(rows, inputs[1].data as Float32Array, S, K, node.attrs.eps);
      a.hessian.addRows(rows, S, K);
      const take = Math.min(S, maxSampleRows - a.rows);
      if (take > 0) {
        a.samples.set(rows.subarray(0, take * K), a.rows * K);
        a.rows += take;
      }
    });
  }
  progress?.('calibrating', sequences.length, sequences.length);
  const out = new Map<number, ActivationStats>();
  for (const [key, a] of acc) out.set(key, { hessian: a.hessian, samples: a.samples.subarray(0, a.rows * a.hessian.K), sampleRows: a.rows });
  return out;
}

/**
 * Seeded sampling from BOS: calibration text any checkpoint can provide itself. A temperature
 * above 1 spreads the samples over more of the activation space than the model's typical text;
 * on stories260K, AWQ+GPTQ over 4 seeds gave +4.9% perplexity on average at temperature 1,
 * +3.9% at 1.3, +3.2% at 2.0 and worse again at 2.5 (bench/RESULTS.md).
 */
export function sampleCalibrationIds(graph: Graph, reader: TensorReader, count: number, length: number, temperature: number, seed = 1234, progress?: Progress): number[][] {
  const model = new ReferenceModel(graph, reader);
  const V = graph.info.vocabSize;
  const rand = rng(seed);
  const bos = graph.info.bosTokenId ?? 0;
  const out: number[][] = [];
  for (let c = 0; c < count; c++) {
    progress?.('sampling calibration text', c, count);
    const s = new KvSession(model);
    const seq = [bos];
    let logits = s.prefill(seq, 0);
    while (seq.length < length) {
      let max = -Infinity;
      for (let v = 0; v < V; v++) max = Math.max(max, logits[v]);
      let sum = 0;
      for (let v = 0; v < V; v++) sum += Math.exp((logits[v] - max) / temperature);
      let r = rand() * sum;
      let next = V - 1;
      for (let v = 0; v < V; v++) {
        r -= Math.exp((logits[v] - max) / temperature);
        if (r <= 0) {
          next = v;
          break;
        }
      }
      seq.push(next);
      logits = s.step(next);
    }
    out.push(seq);
  }
  progress?.('sampling calibration text', count, count);
  return out;
}
