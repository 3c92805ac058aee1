// Helpers for the pass tests (no test framework here, so tsc checks them with the sources): the
// fixtures, a run through the KV cache comparing two graphs, op counts, and input-mutation guards.

import { fileURLToPath } from 'node:url';
import { openCheckpoint, type Checkpoint } from '../checkpoint/checkpoint.js';
import { importLlama } from '../frontend/llama.js';
import { ReferenceModel, type RtTensor } from '../interpreter/interpreter.js';
import type { Graph, WeightSource } from '../ir/graph.js';
import type { TensorReader } from '../ir/materialize.js';
import { runPipeline } from '../pipeline.js';
import type { PassContext } from './pass.js';
import { NO_QUANT } from './quant-config.js';
import { DEFAULT_PIPELINE } from './registry.js';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** GQA and tied (llama32-tiny), untied with 3 layers (-untied), 5 layers of 8/4 heads (stories260K). */
export const FIXTURES = ['llama32-tiny', 'llama32-tiny-untied', 'stories260K'] as const;

/**
 * Max abs difference allowed between a graph and its rewrite. The fusions compute the same sums in
 * the same order; swiglu keeps silu(gate) unrounded before the product, a float32 ulp or so.
 */
export const REWRITE_TOLERANCE = 1e-5;

/** A reader that fails: fusions must not read weights (they stack them lazily). */
export const NO_READS: TensorReader = {
  read: (name) => {
    throw new Error(`a fusion pass read weight ${name}`);
  },
};

export const PASS_CTX: PassContext = { reader: NO_READS, quant: NO_QUANT, log: () => {} };

export interface Fixture {
  readonly name: string;
  readonly ck: Checkpoint;
  readonly graph: Graph;
}

export function loadFixture(name: string): Fixture {
  const ck = openCheckpoint(`${REPO}fixtures/${name}`);
  return { name, ck, graph: importLlama(ck) };
}

/** The graph as DEFAULT_PIPELINE has it just before `passName` runs (verified after each pass). */
export async function graphBefore(g: Graph, passName: string): Promise<Graph> {
  const i = DEFAULT_PIPELINE.indexOf(passName);
  if (i < 0) throw new Error(`${passName} is not in DEFAULT_PIPELINE`);
  return runPipeline(g, DEFAULT_PIPELINE.slice(0, i), PASS_CTX);
}

export function opCounts(g: Graph): Record<string, number> {
  const c: Record<string, number> = {};
  for (const n of g.nodes) c[n.op] = (c[n.op] ?? 0) + 1;
  return c;
}

/** after - before per op kind, zero entries left out. */
export function opDelta(before: Graph, after: Graph): Record<string, number> {
  const a = opCounts(before);
  const b = opCounts(after);
  const d: Record<string, number> = {};
  for (const op of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = (b[op] ?? 0) - (a[op] ?? 0);
    if (x !== 0) d[op] = x;
  }
  return d;
}

function maxAbs(a: Float32Array | Int32Array, b: Float32Array | Int32Array): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

export interface RunDiff {
  /** Max abs logit difference over both calls. */
  readonly logits: number;
  /** Max abs difference of every present key/value after the second call. */
  readonly cache: number;
  /** Largest |logit| seen, to show the tolerance is small against the numbers compared. */
  readonly logitScale: number;
}

const FIRST_IDS = [1, 17, 300, 42, 5];
const SECOND_IDS = [7, 211, 64];

/**
 * Runs both graphs on the same two calls: a prefill at position 0, then (through each graph's own
 * cache, so the cache layout is compared too) a prefill continuing at a nonzero position.
 */
export function compareThroughCache(a: Graph, b: Graph, reader: TensorReader): RunDiff {
  const run = (g: Graph): { logits: Float32Array[]; present: RtTensor[] } => {
    const m = new ReferenceModel(g, reader);
    const pos = (ids: number[], start: number) => Int32Array.from(ids, (_, i) => start + i);
    const first = m.forward(Int32Array.from(FIRST_IDS), pos(FIRST_IDS, 0), m.emptyCache());
    const second = m.forward(Int32Array.from(SECOND_IDS), pos(SECOND_IDS, FIRST_IDS.length), first.present);
    return { logits: [first.logits, second.logits], present: second.present };
  };
  const x = run(a);
  const y = run(b);
  if (x.present.length !== y.present.length) throw new Error('graphs return different numbers of cache tensors');
  let logits = 0;
  let logitScale = 0;
  x.logits.forEach((l, i) => {
    logits = Math.max(logits, maxAbs(l, y.logits[i]));
    for (const v of l) logitScale = Math.max(logitScale, Math.abs(v));
  });
  let cache = 0;
  x.present.forEach((t, i) => {
    const u = y.present[i];
    cache = Math.max(cache, t.shape.join() === u.shape.join() ? maxAbs(t.data, u.data) : Infinity);
  });
  return { logits, cache, logitScale };
}

function sourceText(s: WeightSource): string {
  switch (s.kind) {
    case 'checkpoint':
      return s.tensor;
    case 'concat_rows':
      return `concat(${s.parts.map(sourceText).join(',')})`;
    case 'scale_cols':
    case 'scale_elems':
      return `${s.kind}(${sourceText(s.base)})`;
    case 'constant':
      return `constant(${Array.from(s.data).join(',')})`;
    case 'quantized':
      return `quantized(${sourceText(s.from)})`;
  }
}

/** Everything a pass could mutate in a graph, ids included, as text. */
export function fingerprint(g: Graph): string {
  const v = (x: { id: number; name: string; type: { dtype: string; shape: readonly (number | string)[] } }) => `${x.id}:${x.name}:${x.type.dtype}[${x.type.shape.join()}]`;
  return JSON.stringify({
    info: g.info,
    inputs: g.inputs.map(v),
    outputs: g.outputs.map(v),
    params: g.params.map((p) => `${v(p)}=${p.param ? sourceText(p.param) : '?'}`),
    nodes: g.nodes.map((n) => `${n.op} ${n.name} (${n.inputs.map(v).join(' ')}) -> (${n.outputs.map(v).join(' ')}) ${JSON.stringify(n.attrs)}`),
  });
}

/** Freeze a graph's structure (typed arrays cannot be frozen) so a mutating pass throws. */
export function deepFreeze<T>(x: T): T {
  const seen = new Set<object>();
  const walk = (o: unknown): void => {
    if (typeof o !== 'object' || o === null || ArrayBuffer.isView(o) || seen.has(o)) return;
    seen.add(o);
    for (const k of Object.keys(o)) walk((o as Record<string, unknown>)[k]);
    Object.freeze(o);
  };
  walk(x);
  return x;
}
