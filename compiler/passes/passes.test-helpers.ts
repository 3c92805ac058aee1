// Helpers for the pass tests (no test framework here, so tsc checks them with the sources): the
// fixtures, a run through the KV cache comparing two graphs, op counts, and input-mutation guards.

import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openCheckpoint, type Checkpoint } from '../checkpoint/checkpoint.js';
import { parseLlamaConfig } from '../checkpoint/config.js';
import { expectedLlamaTensors } from '../checkpoint/llama-names.js';
import { encodeSafetensorsHeader } from '../checkpoint/safetensors.js';
import { importLlama } from '../frontend/llama.js';
import { ReferenceModel, type RtTensor } from '../interpreter/interpreter.js';
import { nextFreeId, type Graph, type Value, type WeightSource } from '../ir/graph.js';
import type { TensorReader } from '../ir/materialize.js';
import { runPipeline } from '../pipeline.js';
import { verifyGraph } from '../ir/verify.js';
import type { Pass, PassContext } from './pass.js';
import { NO_QUANT } from './quant-config.js';
import { DEFAULT_PIPELINE } from './registry.js';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** GQA and tied (llama32-tiny), untied with 3 layers (-untied), 5 layers of 8/4 heads (stories260K). */
export const FIXTURES = ['llama32-tiny', 'llama32-tiny-untied', 'stories260K'] as const;

/**
 * Max abs difference allowed between a graph and its rewrite. The fusions compute the same sums in
 * the same order; swiglu keeps silu(gate) unrounded before the product, a float32 ulp or so.
 */
/** Written on demand by loadFixture: plain multi-head attention, one layer, untied, f32. */
export const SYNTHETIC_MHA = 'synthetic-mha-1layer';

/** The fixtures plus the synthetic MHA model, for tests that need no golden. */
export const MODELS = [...FIXTURES, SYNTHETIC_MHA] as const;

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
  const ck = openCheckpoint(name === SYNTHETIC_MHA ? writeSyntheticMha() : `${REPO}fixtures/${name}`);
  return { name, ck, graph: importLlama(ck) };
}

/**
 * A real checkpoint folder (config.json + model.safetensors) with seeded random f32 weights. It is
 * written once under the temp folder, named by a hash of its bytes (so a change to this generator
 * makes a new one), and renamed into place whole so concurrent test files can share it.
 */
function writeSyntheticMha(): string {
  const raw = {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    hidden_size: 48,
    intermediate_size: 80,
    num_hidden_layers: 1,
    num_attention_heads: 3,
    num_key_value_heads: 3,
    vocab_size: 320,
    max_position_embeddings: 256,
    rms_norm_eps: 1e-6,
    rope_theta: 10000,
    tie_word_embeddings: false,
  };
  const config = JSON.stringify(raw);
  const tensors = expectedLlamaTensors(parseLlamaConfig(raw, 'synthetic')).map((t) => ({ name: t.name, dtype: 'F32' as const, shape: [...t.shape] }));
  let seed = 12345;
  const uniform = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 4294967296 - 0.5;
  };
  const data = tensors.map((t) => {
    const a = new Float32Array(t.shape.reduce((x, y) => x * y, 1));
    // Norm weights near 1, matrices scaled so activations stay O(1).
    const scale = t.shape.length === 1 ? 0.2 : 2 / Math.sqrt(t.shape[1]);
    for (let i = 0; i < a.length; i++) a[i] = (t.shape.length === 1 ? 1 : 0) + scale * uniform();
    return new Uint8Array(a.buffer);
  });
  const { header } = encodeSafetensorsHeader(tensors);
  const weights = Buffer.concat([header, ...data]);
  const hash = createHash('sha256').update(config).update(weights).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), `llamac-passes-${SYNTHETIC_MHA}-${hash}`);
  if (existsSync(join(dir, 'model.safetensors'))) return dir;
  const tmp = mkdtempSync(`${dir}.tmp-`);
  writeFileSync(join(tmp, 'config.json'), config);
  writeFileSync(join(tmp, 'model.safetensors'), weights);
  try {
    renameSync(tmp, dir);
  } catch {
    // Another test file won the race with identical bytes.
    rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
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
    case 'scale_rows':
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

export interface Applied {
  readonly before: Graph;
  readonly after: Graph;
  /** The input graph's fingerprint was the same after the pass (and it was frozen meanwhile). */
  readonly inputUnchanged: boolean;
  readonly diff: RunDiff;
}

/** Run one pass on a frozen graph, verify its output and compare the two through the KV cache. */
export async function applyPass(pass: Pass, before: Graph, reader: TensorReader): Promise<Applied> {
  const print = fingerprint(before);
  deepFreeze(before);
  const after = await pass.run(before, PASS_CTX);
  verifyGraph(after);
  return { before, after, inputUnchanged: fingerprint(before) === print, diff: compareThroughCache(before, after, reader) };
}

/** The graph with one more node reading `v` (a silu whose result nobody reads): a pattern breaker. */
export function withExtraReader(g: Graph, v: Value, name = 'probe'): Graph {
  const y: Value = { id: nextFreeId(g), name, type: { dtype: 'f32', shape: v.type.shape } };
  return { ...g, nodes: [...g.nodes, { op: 'silu', name, inputs: [v], outputs: [y], attrs: {} }] };
}

/** The value a graph's node named `node` writes in output slot `slot`. */
export function outputOf(g: Graph, node: string, slot = 0): Value {
  const n = g.nodes.find((x) => x.name === node);
  if (!n) throw new Error(`no node ${node}`);
  return n.outputs[slot];
}
