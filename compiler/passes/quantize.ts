// quantize: weight-only quantization of every matmul weight (and, on request, the embedding table
// and lm_head). Weights are materialized one at a time, quantized by the worker pool and replaced
// by parameters whose source holds the packed bits: the oracle every target must match.
//
// Calibrated int4 ('gptq', 'awq') first runs the interpreter on calibration ids to collect each
// matmul input's statistics. 'awq' then searches activation-aware column scales s for weights whose
// input producer can absorb 1/s exactly (an RMSNorm weight, or the up rows feeding SwiGLU), folds
// them in lazily (scale_cols / scale_elems / scale_rows sources), and runs GPTQ on the scaled
// weights with the correspondingly scaled Hessian.

import { LlamacError } from '../errors.js';
import { nextFreeId, producers, usesOf, type AnyNode, type Graph, type Value, type WeightSource } from '../ir/graph.js';
import { materialize, storedRowsOf } from '../ir/materialize.js';
import type { QuantMethod, QuantScheme } from '../ir/quantized.js';
import { tensorType } from '../ir/types.js';
import { awqScales, prepareGptq, QuantPool, scaleHessian, type JobRows, type QuantJob } from '../quant/index.js';
import { collectStats, matmulInputKey, sampleCalibrationIds, type ActivationStats } from './calibration.js';
import type { Pass, PassContext } from './pass.js';

/** Hessians kept at once during calibration; more means several passes over the calibration set. */
const HESSIAN_BUDGET_BYTES = 4 * 2 ** 30;

/** `--calibration self`: sequences sampled from the model itself (no dataset, no eval overlap). */
export const SELF_CALIBRATION = { count: 64, length: 256, temperature: 2.0, seed: 1234 } as const;

/**
 * `--calibration auto` (the int4 default) samples calibration text from the model when the
 * interpreter can do it quickly: parameters x sampled tokens at most this (about a minute here).
 * Larger models fall back to the calibration-free search unless --calibration is given.
 */
export const AUTO_CALIBRATION_BUDGET = 2e11;

/** Activation rows kept per matmul input for AWQ's output-error objective. */
const AWQ_SAMPLE_ROWS = 1024;
const AWQ_GRID = 20;

/** Checkpoint-backed matrices queued on the worker pool at once (keeps both cores busy). */
const IN_FLIGHT = 4;

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

function paramCount(g: Graph): number {
  let n = 0;
  for (const p of g.params) n += p.type.shape.reduce<number>((a, d) => a * (typeof d === 'number' ? d : 1), 1);
  return n;
}

function calibrationIds(g: Graph, ctx: PassContext): readonly (readonly number[])[] | null {
  const c = ctx.quant.calibration;
  const length = Math.min(SELF_CALIBRATION.length, g.info.maxPositions);
  if (c === 'auto') {
    if (paramCount(g) * SELF_CALIBRATION.count * length > AUTO_CALIBRATION_BUDGET) {
      ctx.log('calibration: model too large to self-sample in the interpreter; using the calibration-free search (pass --calibration for GPTQ/AWQ)');
      return null;
    }
  } else if (c !== 'self') {
    return c;
  }
  ctx.log(`calibration: sampling ${SELF_CALIBRATION.count} x ${length} tokens from the model (temperature ${SELF_CALIBRATION.temperature})`);
  return sampleCalibrationIds(g, ctx.reader, SELF_CALIBRATION.count, length, SELF_CALIBRATION.temperature, SELF_CALIBRATION.seed, ctx.progress);
}

/** Where 1/s can be folded for an activation, or null when it cannot be done exactly. */
type Fold = { readonly kind: 'norm'; readonly weight: Value } | { readonly kind: 'up_rows'; readonly weight: Value; readonly rowOffset: number };

interface GraphLinks {
  readonly uses: ReadonlyMap<number, AnyNode[]>;
  readonly producer: ReadonlyMap<number, AnyNode>;
}

function foldFor(links: GraphLinks, key: number, consumers: readonly AnyNode[], targetIds: ReadonlySet<number>): Fold | null {
  const { uses } = links;
  const producerOf = (id: number) => links.producer.get(id);
  const producer = producerOf(key);
  if (!producer) return null;
  // Every reader must be a scaled matmul, or it would see x / s.
  if (!consumers.every((n) => n.op === 'linear' && targetIds.has(n.inputs[1].id))) return null;
  if ((uses.get(key) ?? []).length !== consumers.length) return null;
  const soleUse = (v: Value) => (uses.get(v.id) ?? []).length === 1;
  if (producer.op === 'rms_norm' && soleUse(producer.inputs[1])) return { kind: 'norm', weight: producer.inputs[1] };
  if (producer.op === 'skip_rms_norm' && producer.outputs[0].id === key && soleUse(producer.inputs[2])) return { kind: 'norm', weight: producer.inputs[2] };
  const upLinear = (v: Value): AnyNode | undefined => {
    const p = producerOf(v.id);
    return p && p.op === 'linear' && targetIds.has(p.inputs[1].id) && soleUse(v) ? p : undefined;
  };
  if (producer.op === 'swiglu') {
    const lin = upLinear(producer.inputs[0]);
    if (lin) return { kind: 'up_rows', weight: lin.inputs[1], rowOffset: dims(lin.inputs[1])[0] / 2 };
  }
  if (producer.op === 'mul') {
    const [a, b] = producer.inputs;
    const silu = producerOf(a.id)?.op === 'silu' ? b : producerOf(b.id)?.op === 'silu' ? a : null;
    const lin = silu ? upLinear(silu) : undefined;
    if (lin) return { kind: 'up_rows', weight: lin.inputs[1], rowOffset: 0 };
  }
  return null;
}

interface Prepared {
  /** Current (possibly scaled) source of each parameter that changed. */
  readonly sources: Map<number, WeightSource>;
  /** AWQ column scales per matmul input key. */
  readonly colScales: Map<number, Float32Array>;
}

/** AWQ: choose s per foldable activation, fold 1/s into its producer, s into the weights. */
function applyAwq(g: Graph, targets: readonly Target[], stats: ReadonlyMap<number, ActivationStats>, ctx: PassContext): Prepared {
  const sources = new Map<number, WeightSource>();
  const colScales = new Map<number, Float32Array>();
  const targetIds = new Set(targets.map((t) => t.value.id));
  const byKey = new Map<number, Target[]>();
  for (const t of targets) if (t.actKey !== null && t.scheme.method === 'awq') byKey.set(t.actKey, [...(byKey.get(t.actKey) ?? []), t]);
  const current = (v: Value): WeightSource => sources.get(v.id) ?? (v.param as WeightSource);
  const links: GraphLinks = { uses: usesOf(g), producer: producers(g) };
  for (const [key, group] of byKey) {
    const consumers = g.nodes.filter((n) => n.op === 'linear' && n.inputs[0].id === key);
    const fold = foldFor(links, key, consumers, targetIds);
    const st = stats.get(key);
    if (!fold || !st) continue;
    const K = dims(group[0].value)[1];
    // Readers of one activation share s: search on their rows stacked.
    const mats = group.map((t) => materialize(current(t.value), ctx.reader));
    const W = new Float32Array(mats.reduce((n, m) => n + m.length, 0));
    let off = 0;
    for (const m of mats) {
      W.set(m, off);
      off += m.length;
    }
    const s = group[0].scheme;
    const res = awqScales(W, W.length / K, K, st.hessian.meanAbs(), st.samples, {
      groupSize: s.groupSize,
      symmetric: s.symmetric,
      scaleDtype: s.scaleDtype,
      grid: AWQ_GRID,
      maxRows: AWQ_SAMPLE_ROWS,
      xRows: st.sampleRows,
    });
    if (res.alpha === 0) continue;
    ctx.log(`awq: ${group.map((t) => t.value.name).join(', ')} alpha ${res.alpha.toFixed(2)} (output error ${res.err.toExponential(2)} vs ${res.baseErr.toExponential(2)})`);
    const inv = res.scales.map((x) => 1 / x);
    colScales.set(key, res.scales);
    for (const t of group) sources.set(t.value.id, { kind: 'scale_cols', base: current(t.value), colScale: res.scales });
    if (fold.kind === 'norm') {
      sources.set(fold.weight.id, { kind: 'scale_elems', base: current(fold.weight), elemScale: inv });
    } else {
      const [N] = dims(fold.weight);
      const rowScale = new Float32Array(N).fill(1);
      rowScale.set(inv, fold.rowOffset);
      sources.set(fold.weight.id, { kind: 'scale_rows', base: current(fold.weight), rowScale });
    }
  }
  return { sources, colScales };
}

/** Collect statistics for the matmul inputs that need them, in batches that fit the memory budget. */
function calibrate(g: Graph, ctx: PassContext, targets: readonly Target[], ids: readonly (readonly number[])[]): Map<number, ActivationStats> {
  const need = new Map<number, number>();
  for (const t of targets) if ((t.scheme.method === 'gptq' || t.scheme.method === 'awq') && t.actKey !== null) need.set(t.actKey, dims(t.value)[1]);
  const out = new Map<number, ActivationStats>();
  let batch = new Map<number, number>();
  let bytes = 0;
  const flush = () => {
    if (batch.size === 0) return;
    ctx.log(`calibrating ${batch.size} activations on ${ids.length} sequences`);
    for (const [k, st] of collectStats(g, ctx.reader, ids, batch, AWQ_SAMPLE_ROWS, ctx.progress)) out.set(k, st);
    batch = new Map();
    bytes = 0;
  };
  for (const [key, K] of need) {
    const cost = K * K * 8 + AWQ_SAMPLE_ROWS * K * 4;
    if (bytes > 0 && bytes + cost > HESSIAN_BUDGET_BYTES) flush();
    batch.set(key, K);
    bytes += cost;
  }
  flush();
  return out;
}

function job(scheme: QuantScheme, W: JobRows, N: number, K: number, H: Float64Array | null): QuantJob {
  if (scheme.bits === 8) return { kind: 'int8', W, N, K, scaleDtype: scheme.scaleDtype };
  if (scheme.method === 'q4_0') return { kind: 'q4_0', W, N, K };
  const options = { groupSize: scheme.groupSize, symmetric: scheme.symmetric, scaleDtype: scheme.scaleDtype };
  if ((scheme.method === 'gptq' || scheme.method === 'awq') && H && W instanceof Float32Array) return { kind: 'gptq', W, N, K, H: prepareGptq(H, K, { refit: true }), options: { ...options, method: 'search' } };
  return { kind: 'int4', W, N, K, options: { ...options, method: scheme.method === 'rtn' ? 'rtn' : 'search' } };
}

export async function quantizeGraph(g: Graph, ctx: PassContext): Promise<Graph> {
  let targets = planTargets(g, ctx);
  if (targets.length === 0) return g;
  const calibrated = targets.some((t) => t.actKey !== null && (t.scheme.method === 'gptq' || t.scheme.method === 'awq'));
  const ids = calibrated ? calibrationIds(g, ctx) : null;
  if (calibrated && !ids) {
    // No calibration text: the same scheme with the calibration-free search.
    const fallback = (m: QuantMethod): QuantMethod => (m === 'gptq' || m === 'awq' ? 'search' : m);
    targets = targets.map((t) => ({ ...t, scheme: { ...t.scheme, method: fallback(t.scheme.method) } }));
  }
  if (ids && ids.length === 0) throw new LlamacError('--calibration: no sequences');
  const stats = ids ? calibrate(g, ctx, targets, ids) : new Map<number, ActivationStats>();
  const { sources, colScales } = applyAwq(g, targets, stats, ctx);

  const pool = new QuantPool();
  const replaced = new Map<number, Value>();
  let nextId = nextFreeId(g);
  // Matrices read straight from the checkpoint are quantized by the workers from the file, a few
  // at a time so the workers never wait on this thread; a matrix that must be computed first
  // (AWQ-scaled, GPTQ) is materialized here, one at a time.
  const inFlight: Promise<void>[] = [];
  const progress = ctx.progress ?? (() => {});
  const totalWeights = targets.reduce((a, t) => a + dims(t.value)[0] * dims(t.value)[1], 0);
  let doneWeights = 0;
  progress('quantizing', 0, totalWeights);
  try {
    for (const t of targets) {
      const { value: v, scheme } = t;
      const source = sources.get(v.id) ?? v.param;
      if (!source) continue;
      const [N, K] = dims(v);
      const st = t.actKey === null ? undefined : stats.get(t.actKey);
      const s = t.actKey === null ? undefined : colScales.get(t.actKey);
      const H = st ? (s ? scaleHessian(st.hessian.hessian(), K, s) : st.hessian.hessian()) : null;
      const stored = H ? null : storedRowsOf(source, ctx.reader);
      const W = stored ?? materialize(source, ctx.reader);
      const id = nextId++;
      const t0 = performance.now();
      const done = pool.quantize(job(scheme, W, N, K, H)).then((matrix) => {
        ctx.log(`quantized ${v.name} [${N}x${K}] in ${(performance.now() - t0).toFixed(0)} ms`);
        doneWeights += N * K;
        progress('quantizing', doneWeights, totalWeights);
        // The scheme records what ran (e.g. 'awq' = AWQ scaling + GPTQ).
        const ran: QuantScheme = { ...matrix.scheme, method: scheme.method };
        replaced.set(v.id, { id, name: v.name, type: tensorType('f32', v.type.shape, ran), param: { kind: 'quantized', matrix: { ...matrix, scheme: ran }, from: source } });
      });
      // Awaited below; this keeps an early failure from being reported as unhandled meanwhile.
      done.catch(() => {});
      inFlight.push(done);
      if (!stored) await done;
      else if (inFlight.length >= IN_FLIGHT) await inFlight.shift();
    }
    await Promise.all(inFlight);
  } finally {
    await pool.close();
  }
  // Folded norm / up weights that are not themselves quantized keep their new dense source.
  for (const p of g.params) {
    const src = sources.get(p.id);
    if (src && !replaced.has(p.id)) replaced.set(p.id, { id: nextId++, name: p.name, type: p.type, param: src });
  }
  const map = (v: Value): Value => replaced.get(v.id) ?? v;
  const nodes = g.nodes.map((n) => (n.inputs.some((v) => replaced.has(v.id)) ? { ...n, inputs: n.inputs.map(map) } : n)) as AnyNode[];
  return { ...g, nodes, params: g.params.map(map) };
}

export const quantizePass: Pass = {
  name: 'quantize',
  description: 'weight-only int8/int4/q4_0 (search, GPTQ, AWQ+GPTQ on calibration ids), embeddings and lm_head per --quant-embeddings',
  run: quantizeGraph,
};
