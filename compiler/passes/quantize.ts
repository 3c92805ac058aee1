// quantize: weight-only quantization of every matmul weight (and, on request, the embedding table
// and lm_head). Weights are materialized one at a time, quantized by the worker pool and replaced
// by parameters whose source holds the packed bits: the oracle every target must match.

import { LlamacError } from '../errors.js';
import { nextFreeId, type AnyNode, type Graph, type Value } from '../ir/graph.js';
import { materialize } from '../ir/materialize.js';
import type { QuantScheme } from '../ir/quantized.js';
import { tensorType } from '../ir/types.js';
import { prepareGptq, QuantPool, type QuantJob } from '../quant/index.js';
import type { HessianAccumulator } from '../quant/index.js';
import { collectHessians, matmulInputKey, sampleCalibrationIds } from './calibration.js';
import type { Pass, PassContext } from './pass.js';

/** Hessians kept at once during calibration; more means several passes over the calibration set. */
const HESSIAN_BUDGET_BYTES = 4 * 2 ** 30;

/** `--calibration self`: sequences sampled from the model itself (no dataset, no eval overlap). */
export const SELF_CALIBRATION = { count: 64, length: 256 } as const;

interface Target {
  readonly value: Value;
  readonly scheme: QuantScheme;
  /** Matmul input feeding this weight, for calibration; null for a pure gather. */
  readonly actKey: number | null;
}

/** Which weights get which scheme. lm_head follows the embeddings option, tied or not. */
function planTargets(g: Graph, ctx: PassContext): Target[] {
  const gathered = new Set<number>();
  for (const n of g.nodes) if (n.op === 'embedding') gathered.add(n.inputs[0].id);
  const logits = g.outputs[0].id;
  const seen = new Map<number, Target>();
  const add = (v: Value, scheme: QuantScheme | null, actKey: number | null) => {
    if (!scheme || !v.param || v.param.kind === 'quantized' || seen.has(v.id)) return;
    seen.set(v.id, { value: v, scheme, actKey });
  };
  for (const n of g.nodes) {
    const w = weightOf(n);
    if (!w) continue;
    const isHead = n.outputs[0].id === logits || gathered.has(w.id);
    add(w, isHead ? ctx.quant.embeddings : ctx.quant.linear, gathered.has(w.id) ? null : matmulInputKey(n));
  }
  for (const n of g.nodes) if (n.op === 'embedding') add(n.inputs[0], ctx.quant.embeddings, null);
  // Stable order: the graph's parameter order.
  const order = new Map(g.params.map((p, i) => [p.id, i]));
  return [...seen.values()].sort((a, b) => (order.get(a.value.id) ?? 0) - (order.get(b.value.id) ?? 0));
}

function weightOf(n: AnyNode): Value | null {
  if (n.op === 'linear') return n.inputs[1];
  if (n.op === 'rms_norm_linear') return n.inputs[2];
  return null;
}

function dims(v: Value): [number, number] {
  const [N, K] = v.type.shape;
  if (typeof N !== 'number' || typeof K !== 'number' || v.type.shape.length !== 2) throw new Error(`internal: ${v.name} is not a 2-D weight`);
  return [N, K];
}

function job(scheme: QuantScheme, W: Float32Array, N: number, K: number, H: HessianAccumulator | undefined): QuantJob {
  if (scheme.bits === 8) return { kind: 'int8', W, N, K, scaleDtype: scheme.scaleDtype };
  if (scheme.method === 'q4_0') return { kind: 'q4_0', W, N, K };
  const options = { groupSize: scheme.groupSize, symmetric: scheme.symmetric, scaleDtype: scheme.scaleDtype };
  if (scheme.method === 'gptq') {
    if (!H) throw new Error('internal: GPTQ without a Hessian');
    return { kind: 'gptq', W, N, K, H: prepareGptq(H.hessian(), K), options: { ...options, method: 'search' } };
  }
  return { kind: 'int4', W, N, K, options: { ...options, method: scheme.method === 'rtn' ? 'rtn' : 'search' } };
}

/** Collect Hessians for the targets that need them, in batches that fit the memory budget. */
function calibrate(g: Graph, ctx: PassContext, targets: readonly Target[]): Map<number, HessianAccumulator> {
  const need = new Map<number, number>();
  for (const t of targets) if (t.scheme.method === 'gptq' && t.actKey !== null) need.set(t.actKey, dims(t.value)[1]);
  const out = new Map<number, HessianAccumulator>();
  if (need.size === 0) return out;
  const source = ctx.quant.calibration;
  if (!source || source.length === 0) throw new LlamacError('--quant-method gptq: no calibration ids');
  const calibration = source === 'self' ? sampleCalibrationIds(g, ctx.reader, SELF_CALIBRATION.count, Math.min(SELF_CALIBRATION.length, g.info.maxPositions)) : source;
  let batch = new Map<number, number>();
  let bytes = 0;
  const flush = () => {
    if (batch.size === 0) return;
    ctx.log(`calibrating ${batch.size} activations on ${calibration.length} sequences`);
    for (const [k, h] of collectHessians(g, ctx.reader, calibration, batch)) out.set(k, h);
    batch = new Map();
    bytes = 0;
  };
  for (const [key, K] of need) {
    if (bytes > 0 && bytes + K * K * 8 > HESSIAN_BUDGET_BYTES) flush();
    batch.set(key, K);
    bytes += K * K * 8;
  }
  flush();
  return out;
}

export async function quantizeGraph(g: Graph, ctx: PassContext): Promise<Graph> {
  const targets = planTargets(g, ctx);
  if (targets.length === 0) return g;
  const hessians = calibrate(g, ctx, targets);
  const pool = new QuantPool();
  const replaced = new Map<number, Value>();
  let nextId = nextFreeId(g);
  try {
    for (const t of targets) {
      const { value: v, scheme } = t;
      if (!v.param) continue;
      const [N, K] = dims(v);
      const W = materialize(v.param, ctx.reader);
      const t0 = performance.now();
      const matrix = await pool.quantize(job(scheme, W, N, K, t.actKey === null ? undefined : hessians.get(t.actKey)));
      ctx.log(`quantized ${v.name} [${N}x${K}] in ${(performance.now() - t0).toFixed(0)} ms`);
      replaced.set(v.id, { id: nextId++, name: v.name, type: tensorType('f32', v.type.shape, matrix.scheme), param: { kind: 'quantized', matrix, from: v.param } });
    }
  } finally {
    await pool.close();
  }
  const map = (v: Value): Value => replaced.get(v.id) ?? v;
  const nodes = g.nodes.map((n) => (n.inputs.some((v) => replaced.has(v.id)) ? { ...n, inputs: n.inputs.map(map) } : n)) as AnyNode[];
  return { ...g, nodes, params: g.params.map(map) };
}

export const quantizePass: Pass = {
  name: 'quantize',
  description: 'weight-only int8/int4/q4_0 quantization (search or GPTQ), embeddings and lm_head per --quant-embeddings',
  run: quantizeGraph,
};
