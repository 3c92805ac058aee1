// Lowering: the fused (and possibly quantized) IR -> the kernel schedule (schedule.ts). One
// Record<OpKind, ...> entry per op, so a new op does not compile until this target lowers it or
// rejects it by name. Every shape, head count, scale and table comes from the graph: no Llama
// geometry is assumed here (other head_dim, GQA ratios, tied/untied all lower the same way).

import type { AnyNode, Graph, Node, Value } from '../../ir/graph.js';
import type { OpKind } from '../../ir/ops.js';
import { LlamacError } from '../../errors.js';
import { loweringOf, reject, type LoweringTable } from '../lowering.js';
import { KERNELS, matOverrides, type KernelName } from '../../../kernels-wgsl/kernels.js';
import { BINDING_LIMIT, PLACEHOLDER, type MatrixShardBuffers, type WeightLayout } from './weights.js';
import type { BufferSpec, DispatchStep, KernelChoice, Num, RopeTable, Schedule, ScheduleModel, Step } from './schedule.js';

export type Program = keyof Schedule['programs'];

export interface LowerOptions {
  readonly maxTokens: number;
  readonly contextLength: number;
  /** the most split-K partitions of decode attention (scratch is sized for it) */
  readonly maxSplits: number;
  /**
   * 'int8': quantized matmuls take x as int8 per block of 32 (quant_x + gemv_q8's packed dot
   * products, every token of a prefill in one batched dispatch), as the interpreter's act-quant mode
   * does; 'float': x stays float32 (the interpreter's default numerics).
   */
  readonly activations: 'float' | 'int8';
}

export const DEFAULT_LOWER: LowerOptions = { maxTokens: 128, contextLength: 2048, maxSplits: 32, activations: 'float' };

const T: Num = { v: 'T' };
const GX: Num = { v: 'gx' };
const tokens = (m: number, d = 1, a = 0): Num => ({ v: 'T', m, d, a });

/** A kernel with one variant (its file from the kernels-wgsl table). */
function only(name: KernelName, overrides: Record<string, number> = {}): KernelChoice[] {
  const v = KERNELS[name].variants.base;
  if (!v) throw new Error(`internal: kernel ${name} has no base variant`);
  return [{ file: v.file, requires: v.requires, overrides }];
}

type MatMeta = Extract<WeightLayout, { kind: 'matrix' }>['meta'];

function num(o: Record<string, number | boolean>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'boolean' ? (v ? 1 : 0) : v]));
}

/**
 * GEMV variants in order of preference: subgroup reduction where the device has subgroups, x staged
 * through workgroup memory on GPUs and read directly on CPU adapters (kernels-wgsl's measured defaults).
 */
function gemvChoices(meta: MatMeta): KernelChoice[] {
  const WG = 64;
  const ROWS = 4;
  const base = { ...num(matOverrides(meta)), WG, ROWS, MAGIC: 1 };
  const out: KernelChoice[] = [];
  for (const variant of ['sg', 'base'] as const) {
    const v = KERNELS.gemv.variants[variant];
    out.push({ file: v.file, requires: v.requires, cpu: false, overrides: { ...base, STAGE_X: 1, XS: WG * 9 } });
    out.push({ file: v.file, requires: v.requires, cpu: true, overrides: { ...base, STAGE_X: 0, XS: 1 } });
  }
  return out;
}

function fold(count: number): [number, number] {
  if (count <= 65535) return [Math.max(1, count), 1];
  const y = Math.ceil(count / 65535);
  return [Math.ceil(count / y), y];
}

interface Ctx {
  readonly program: Program;
  readonly graph: Graph;
  readonly steps: Step[];
  readonly opts: LowerOptions;
  /** buffer of a value (activation or KV cache) */
  buf(v: Value): string;
  /** a scratch buffer for the duration of the current node */
  temp(bytes: number): string;
  matrix(v: Value): Extract<WeightLayout, { kind: 'matrix' }>;
  vector(v: Value): string;
  rope(v: Value): string;
  /** is this value the graph's logits output */
  isLogits(v: Value): boolean;
  /** width (columns) of an activation */
  width(v: Value): number;
}

function dispatch(cx: Ctx, label: string, kernels: KernelChoice[], uniform: Num[], buffers: string[], grid: [Num, Num, Num]): void {
  cx.steps.push({ label, kernels, uniform, buffers, grid } satisfies DispatchStep);
}

function gemmShards(cx: Ctx, label: string, m: Extract<WeightLayout, { kind: 'matrix' }>, x: string, y: string, M: Num): void {
  const kernels = [{ ...only('gemm')[0], overrides: num(matOverrides(m.meta)) }];
  for (const s of m.shards) {
    dispatch(cx, label, kernels, [M, m.meta.cols, s.rows, s.rowBase, m.meta.chunksPerRow, m.meta.groupsPerRow, m.meta.rows], [s.data, s.scales, s.zeros, x, y], [Math.ceil(s.rows / 64), typeof M === 'number' ? Math.ceil(M / 64) : { ...M, d: 64 }, 1]);
  }
}

function gemvShards(cx: Ctx, label: string, m: Extract<WeightLayout, { kind: 'matrix' }>, x: string, y: string): void {
  const kernels = gemvChoices(m.meta);
  for (const s of m.shards) {
    const [gx, gy] = fold(Math.ceil(s.rows / 4));
    dispatch(cx, label, kernels, [m.meta.cols, s.rows, s.rowBase, m.meta.chunksPerRow, m.meta.groupsPerRow, GX], [s.data, s.scales, s.zeros, x, y], [gx, gy, 1]);
  }
}

/**
 * int8 activations: x [rows, K] -> int8 blocks (quant_x), then gemv_q8 over the shards, workgroup z
 * = token.
 */
function q8Shards(cx: Ctx, label: string, m: Extract<WeightLayout, { kind: 'matrix' }>, x: string, y: string, rows: Num): void {
  const K = m.meta.cols;
  const blocks = Math.ceil(K / 32);
  const xq = cx.temp(cx.opts.maxTokens * blocks * 32);
  const xd = cx.temp(cx.opts.maxTokens * blocks * 8);
  dispatch(cx, `${label} quant_x`, only('quant_x'), [K, blocks, GX], [x, xq, xd], [Math.ceil(blocks / 64), 1, rows]);
  const ROWS = 4;
  const mat = num(matOverrides(m.meta));
  // gemv_q8's base variant (TPR threads per row group, workgroup-memory reduction): its subgroup
  // variant loops over more row groups than subgroups when it cannot know the device's subgroup
  // size at compile time, and that form gave wrong rows on lavapipe, so it is not scheduled.
  const base = KERNELS.gemv_q8.variants.base;
  const per = 16; // rows per workgroup: (WG / TPR) * ROWS on both geometries
  const choices: KernelChoice[] = [
    { file: base.file, requires: base.requires, cpu: false, overrides: { ...mat, WG: 64, TPR: 16, ROWS, UNROLL: 1 } },
    { file: base.file, requires: base.requires, cpu: true, overrides: { ...mat, WG: 32, TPR: 8, ROWS, UNROLL: 1 } },
  ];
  for (const s of m.shards) {
    const uniform: Num[] = [K, s.rows, s.rowBase, m.meta.chunksPerRow, m.meta.groupsPerRow, GX, m.meta.rows];
    const [gx, gy] = fold(Math.ceil(s.rows / per));
    if (gy !== 1) throw new LlamacError(`webgpu: ${label}: ${s.rows} rows need a folded grid, which the token-batched q8 GEMV does not take`);
    dispatch(cx, label, choices, uniform, [s.data, s.scales, s.zeros, xq, xd, y], [gx, 1, rows]);
  }
}

const isQuantized = (m: Extract<WeightLayout, { kind: 'matrix' }>): boolean => m.meta.kind === 'int4' || m.meta.kind === 'int8';

/** y = x W^T: GEMM over T rows in prefill, GEMV in decode; int8 activations for quantized W when asked. */
function matmul(cx: Ctx, label: string, m: Extract<WeightLayout, { kind: 'matrix' }>, x: string, y: string): void {
  if (cx.opts.activations === 'int8' && isQuantized(m)) q8Shards(cx, label, m, x, y, cx.program === 'decode' ? 1 : T);
  else if (cx.program === 'decode') gemvShards(cx, label, m, x, y);
  else gemmShards(cx, label, m, x, y, T);
}

function rmsnorm(cx: Ctx, label: string, x: string, w: string, y: string, n: number, eps: number, rows: Num): void {
  dispatch(cx, label, only('rmsnorm'), [n, { f: eps }, GX], [x, w, y], [rows, 1, 1]);
}

function add(cx: Ctx, label: string, a: string, b: string, y: string, n: number): void {
  dispatch(cx, label, only('add'), [tokens(n), GX], [a, b, y], [tokens(n, 1024), 1, 1]);
}

type Lowering<K extends OpKind> = (n: Node<K>, cx: Ctx) => void;
type WebGpuFns = { readonly [K in OpKind]: Lowering<K> };

const UNFUSED = 'the WebGPU kernels run the fused graph; drop --no-fuse';

/** Per op its lowering, or why not: the unfused forms have fused kernels instead. */
export const WEBGPU_LOWERINGS: LoweringTable<WebGpuFns> = {
  embedding: (n, cx) => {
    const m = cx.matrix(n.inputs[0]);
    const out = cx.buf(n.outputs[0]);
    for (const s of m.shards) {
      dispatch(cx, n.name, [{ ...only('embed')[0], overrides: num(matOverrides(m.meta)) }], [m.meta.cols, s.rows, s.rowBase, m.meta.chunksPerRow, m.meta.groupsPerRow], [s.data, s.scales, s.zeros, cx.buf(n.inputs[1]), out], [Math.ceil(m.meta.chunksPerRow / 64), T, 1]);
    }
  },
  rms_norm: (n, cx) => rmsnorm(cx, n.name, cx.buf(n.inputs[0]), cx.vector(n.inputs[1]), cx.buf(n.outputs[0]), cx.width(n.inputs[0]), n.attrs.eps, T),
  linear: (n, cx) => matmul(cx, n.name, cx.matrix(n.inputs[1]), cx.buf(n.inputs[0]), cx.buf(n.outputs[0])),
  add: (n, cx) => add(cx, n.name, cx.buf(n.inputs[0]), cx.buf(n.inputs[1]), cx.buf(n.outputs[0]), cx.width(n.inputs[0])),
  rope_attention: (n, cx) => {
    const { heads: Hq, kvHeads: Hkv, headDim: D, scale } = n.attrs;
    if (D % 2 !== 0 || D > 256) throw new LlamacError(`webgpu: head_dim ${D} (node ${n.name}) must be even and at most 256`);
    const [qkv, , inv, pastK, pastV] = n.inputs;
    const kc = cx.buf(pastK);
    const vc = cx.buf(pastV);
    const q = cx.temp(cx.opts.maxTokens * Hq * D * 4);
    const out = cx.buf(n.outputs[0]);
    dispatch(cx, `${n.name} rope+kv`, only('rope_qkv'), [T, Hq, Hkv, D / 2, { v: 'past' }, GX], [cx.buf(qkv), cx.rope(inv), q, kc, vc], [tokens((Hq + Hkv) * (D / 2), 64), 1, 1]);
    if (cx.program === 'decode') {
      const partO = cx.temp(cx.opts.maxSplits * Hq * D * 4);
      const partML = cx.temp(cx.opts.maxSplits * Hq * 2 * 4);
      dispatch(cx, `${n.name} attention`, only('attn_decode'), [{ v: 'S' }, Hq, Hkv, D, { v: 'splitLen' }, { f: scale }], [q, kc, vc, partO, partML], [{ v: 'splits' }, Hq, 1]);
      dispatch(cx, `${n.name} combine`, only('attn_combine'), [Hq, D, { v: 'splits' }], [partO, partML, out], [Hq, 1, 1]);
    } else {
      dispatch(cx, `${n.name} attention`, only('attn_prefill'), [T, { v: 'past' }, Hq, Hkv, D, { f: scale }], [q, kc, vc, out], [T, Hq, 1]);
    }
  },
  swiglu: (n, cx) => {
    const F = cx.width(n.outputs[0]);
    const gu = cx.buf(n.inputs[0]);
    dispatch(cx, n.name, only('swiglu'), [T, F, 2 * F, 0, 2 * F, F, GX], [gu, gu, cx.buf(n.outputs[0])], [tokens(F, 1024), 1, 1]);
  },
  skip_rms_norm: (n, cx) => {
    const H = cx.width(n.inputs[0]);
    const sum = cx.buf(n.outputs[1]);
    add(cx, `${n.name} add`, cx.buf(n.inputs[0]), cx.buf(n.inputs[1]), sum, H);
    rmsnorm(cx, `${n.name} norm`, sum, cx.vector(n.inputs[2]), cx.buf(n.outputs[0]), H, n.attrs.eps, T);
  },
  rms_norm_linear: (n, cx) => {
    const H = cx.width(n.inputs[0]);
    const m = cx.matrix(n.inputs[2]);
    const x = cx.buf(n.inputs[0]);
    const y = cx.buf(n.outputs[0]);
    const normed = cx.temp(cx.opts.maxTokens * H * 4);
    if (cx.program === 'prefillAll' || !cx.isLogits(n.outputs[0])) {
      rmsnorm(cx, `${n.name} norm`, x, cx.vector(n.inputs[1]), normed, H, n.attrs.eps, T);
      matmul(cx, n.name, m, normed, y);
      return;
    }
    // only the last token's logits: copy its row, normalize it, one GEMV
    let row = x;
    if (cx.program === 'prefill') {
      row = cx.temp(H * 4);
      cx.steps.push({ label: `${n.name} last row`, copy: { src: x, srcOffset: tokens(H * 4, 1, -H * 4), dst: row, dstOffset: 0, bytes: H * 4 } });
    }
    rmsnorm(cx, `${n.name} norm`, row, cx.vector(n.inputs[1]), normed, H, n.attrs.eps, 1);
    if (cx.opts.activations === 'int8' && isQuantized(m)) q8Shards(cx, n.name, m, normed, y, 1);
    else gemvShards(cx, n.name, m, normed, y);
  },
  rope: reject(UNFUSED),
  attention: reject(UNFUSED),
  silu: reject(UNFUSED),
  mul: reject(UNFUSED),
  split: reject(UNFUSED),
};

function lowerNode(n: AnyNode, cx: Ctx): void {
  // The mapped LOWERINGS type ties each op to its attrs; indexing by a union needs this one widening.
  const f = loweringOf('webgpu', WEBGPU_LOWERINGS[n.op], n.op) as Lowering<typeof n.op>;
  f(n as never, cx);
}

export interface Lowered {
  readonly programs: Schedule['programs'];
  readonly buffers: BufferSpec[];
  readonly rope: RopeTable[];
  readonly io: Schedule['io'];
  readonly argmax: DispatchStep;
  readonly argmaxOut: string;
  readonly model: ScheduleModel;
}

/** Lower the graph's three programs over one set of activation buffers (reused by liveness). */
export function lowerGraph(graph: Graph, layouts: ReadonlyMap<number, WeightLayout>, opts: LowerOptions = DEFAULT_LOWER): Lowered {
  const info = graph.info;
  const [idsIn, posIn, ...pasts] = graph.inputs;
  const [logitsOut, ...presents] = graph.outputs;
  if (!idsIn || !posIn || !logitsOut || pasts.length !== presents.length) throw new LlamacError('webgpu: graph inputs/outputs are not ids, positions, past k/v -> logits, present k/v');
  const buffers: BufferSpec[] = [];
  const pool: { name: string; bytes: number }[] = [];
  // KV caches: past i and present i are the same GPU buffer [capacity, kvHeads, headDim]
  const fixed = new Map<number, string>();
  pasts.forEach((p, i) => {
    const [kvh, , hd] = p.type.shape;
    const name = `kv.${i}`;
    buffers.push({ name, kvRowBytes: Number(kvh) * Number(hd) * 4 });
    fixed.set(p.id, name);
    fixed.set(presents[i].id, name);
  });
  fixed.set(idsIn.id, 'ids');
  buffers.push({ name: 'ids', bytes: opts.maxTokens * 4 });
  const V = Number(logitsOut.type.shape[1]);
  if (opts.maxTokens * V * 4 > BINDING_LIMIT) {
    throw new LlamacError(`--webgpu-prefill-chunk: ${opts.maxTokens} tokens x ${V} logits need ${opts.maxTokens * V * 4} bytes, over the ${BINDING_LIMIT}-byte binding every WebGPU device takes (at most ${Math.floor(BINDING_LIMIT / (V * 4))})`);
  }
  fixed.set(logitsOut.id, 'logits');
  buffers.push({ name: 'logits', bytes: opts.maxTokens * V * 4 });
  const rope: RopeTable[] = [];
  const ropeBuf = new Map<number, string>();

  const widthOf = (v: Value): number => {
    const w = v.type.shape[v.type.shape.length - 1];
    if (typeof w !== 'number') throw new LlamacError(`webgpu: value ${v.name} has a symbolic width`);
    return w;
  };
  const programs = {} as Record<Program, Step[]>;
  for (const program of ['prefill', 'prefillAll', 'decode'] as const) {
    const lastUse = new Map<number, number>();
    graph.nodes.forEach((n, i) => n.inputs.forEach((v) => lastUse.set(v.id, i)));
    for (const o of graph.outputs) lastUse.set(o.id, Infinity);
    const inUse = new Set<string>();
    const assigned = new Map<number, string>();
    const take = (bytes: number): string => {
      let b = pool.find((p) => p.bytes === bytes && !inUse.has(p.name));
      if (!b) {
        b = { name: `act.${pool.length}`, bytes };
        pool.push(b);
      }
      inUse.add(b.name);
      return b.name;
    };
    const steps: Step[] = [];
    let temps: string[] = [];
    const cx: Ctx = {
      program,
      graph,
      steps,
      opts,
      buf: (v) => {
        const f = fixed.get(v.id) ?? assigned.get(v.id);
        if (f) return f;
        if (v.param) throw new LlamacError(`webgpu: parameter ${v.name} used as an activation`);
        const name = take(opts.maxTokens * widthOf(v) * 4);
        assigned.set(v.id, name);
        return name;
      },
      temp: (bytes) => {
        const name = take(bytes);
        temps.push(name);
        return name;
      },
      matrix: (v) => {
        const l = layouts.get(v.id);
        if (l?.kind !== 'matrix') throw new LlamacError(`webgpu: ${v.name} is not a stored matrix`);
        return l;
      },
      vector: (v) => {
        const l = layouts.get(v.id);
        if (l?.kind !== 'vector') throw new LlamacError(`webgpu: ${v.name} is not a stored vector`);
        return l.buffer;
      },
      rope: (v) => {
        let name = ropeBuf.get(v.id);
        if (!name) {
          const l = layouts.get(v.id);
          if (l?.kind !== 'rope') throw new LlamacError(`webgpu: ${v.name} is not a RoPE inv_freq table`);
          name = `rope.${rope.length}`;
          ropeBuf.set(v.id, name);
          rope.push({ buffer: name, invFreq: Array.from(l.invFreq) });
          buffers.push({ name, bytes: opts.maxTokens * l.invFreq.length * 8 });
        }
        return name;
      },
      isLogits: (v) => v.id === logitsOut.id,
      width: widthOf,
    };
    graph.nodes.forEach((n, i) => {
      // outputs are allocated while the inputs are still held, so no dispatch reads and writes one buffer
      n.outputs.forEach((o) => cx.buf(o));
      lowerNode(n, cx);
      for (const t of temps) inUse.delete(t);
      temps = [];
      for (const v of n.inputs) if (lastUse.get(v.id) === i && assigned.has(v.id)) inUse.delete(assigned.get(v.id) as string);
    });
    programs[program] = steps;
  }
  for (const p of pool) buffers.push({ name: p.name, bytes: p.bytes });
  buffers.push({ name: 'argmax', bytes: 16 });
  const argmax: DispatchStep = { label: 'argmax', kernels: only('argmax'), uniform: [V], buffers: ['logits', 'argmax'], grid: [1, 1, 1] };
  const model: ScheduleModel = { name: info.name, vocabSize: info.vocabSize, numLayers: info.numLayers, maxPositions: info.maxPositions, bosTokenId: info.bosTokenId, eosTokenIds: [...info.eosTokenIds] };
  return { programs, buffers, rope, io: { ids: 'ids', logits: 'logits' }, argmax, argmaxOut: 'argmax', model };
}

export type { MatrixShardBuffers };
export { PLACEHOLDER };
