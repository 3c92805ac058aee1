// Lowering the fused, quantized IR to the NEON runtime's op list (runtime/lc_format.h): one table
// entry per IR op kind, so an op added to compiler/ir/ops.ts does not compile until this target
// handles it. Activations live in a few reusable buffers ("slots", assigned by liveness); fused
// QKV and gate|up outputs are read through strided views, never copied apart.

import { LlamacError } from '../../errors.js';
import type { AnyNode, Graph, Node, Value } from '../../ir/graph.js';
import type { OpKind } from '../../ir/ops.js';
import { loweringOf, type LoweringTable } from '../lowering.js';
import { packedBytes, WType } from './pack.js';

/** Opcodes of runtime/lc_format.h. */
export const enum Op {
  Embed = 1,
  RmsNorm = 2,
  Linear = 3,
  Rope = 4,
  Attention = 5,
  Swiglu = 6,
  Add = 7,
  Mul = 8,
  Silu = 9,
  Copy = 10,
  SkipRmsNorm = 11,
}

export const SLOT_LOGITS = 0xffffffff;
/** Tokens per run of the op list: longer prefills go in chunks (bounds the activation buffers). */
export const MAX_CHUNK = 64;
export const VEC = 4;

export interface View {
  readonly slot: number;
  readonly ld: number;
  readonly off: number;
}

export interface ProgramOp {
  readonly code: Op;
  readonly views: readonly View[];
  readonly tensors: readonly number[];
  readonly ints: readonly number[];
  readonly f: number;
  /** The IR node it came from, for messages and the program listing. */
  readonly from: string;
}

export interface ProgramTensor {
  readonly value: Value;
  /** lk_wtype, or VEC for a float32 vector. */
  readonly type: number;
  readonly N: number;
  readonly K: number;
  readonly G: number;
  readonly sym: boolean;
  readonly scaleF16: boolean;
  readonly bytes: number;
}

export interface Program {
  readonly tensors: readonly ProgramTensor[];
  readonly slots: readonly number[];
  readonly ops: readonly ProgramOp[];
  readonly layers: number;
  readonly vocab: number;
  readonly kvHeads: number;
  readonly headDim: number;
}

export interface LowerOptions {
  /** How unquantized matrices are stored. */
  readonly floatDtype: 'f16' | 'f32';
}

function unsupported(node: AnyNode, why: string): never {
  throw new LlamacError(`--target neon: op '${node.op}' (${node.name}): ${why}`);
}

/** A live IR value: where its rows are, and how wide it is. */
interface Placed extends View {
  readonly width: number;
}

class Lowering {
  readonly ops: ProgramOp[] = [];
  readonly tensors: ProgramTensor[] = [];
  readonly slotWidth: number[] = [];
  private readonly tensorOf = new Map<number, number>();
  private readonly placed = new Map<number, Placed>();
  private readonly slotRefs: number[] = [];
  private readonly free = new Set<number>();
  /** buffers of the current node only (copies, the norm before a fused lm_head) */
  private readonly temps: View[] = [];
  /** node index after which a value is dead */
  private readonly lastUse = new Map<number, number>();
  readonly layerOfPast = new Map<number, number>();
  readonly layerOfPresent = new Map<number, number>();
  index = 0;

  constructor(
    readonly graph: Graph,
    readonly opts: LowerOptions,
  ) {
    graph.nodes.forEach((n, i) => n.inputs.forEach((v) => this.lastUse.set(v.id, i)));
    for (const v of graph.outputs) this.lastUse.set(v.id, Infinity);
    for (let l = 0; 2 + 2 * l < graph.inputs.length; l++) {
      this.layerOfPast.set(graph.inputs[2 + 2 * l].id, l);
      this.layerOfPast.set(graph.inputs[3 + 2 * l].id, l);
      this.layerOfPresent.set(graph.outputs[1 + 2 * l].id, l);
      this.layerOfPresent.set(graph.outputs[2 + 2 * l].id, l);
    }
  }

  get logits(): Value {
    return this.graph.outputs[0];
  }

  emit(node: AnyNode, code: Op, views: View[], tensors: number[], ints: number[], f = 0): void {
    this.ops.push({ code, views, tensors, ints, f, from: node.name });
  }

  /** A matrix parameter [N, K] (quantized or float), one table entry per IR value (tied = once). */
  matrix(node: AnyNode, v: Value): number {
    const known = this.tensorOf.get(v.id);
    if (known !== undefined) {
      if (this.tensors[known].type === VEC) unsupported(node, `${v.name} is used as a vector and a matrix`);
      return known;
    }
    if (!v.param) unsupported(node, `${v.name} must be a weight parameter`);
    const [N, K] = v.type.shape;
    if (typeof N !== 'number' || typeof K !== 'number' || v.type.shape.length !== 2) unsupported(node, `${v.name} is not a fixed 2-D weight`);
    const q = v.type.quant;
    let t: Omit<ProgramTensor, 'bytes'>;
    if (q && q.bits === 4) t = { value: v, type: WType.Q4, N, K, G: q.groupSize, sym: q.symmetric, scaleF16: q.scaleDtype === 'f16' };
    else if (q) t = { value: v, type: WType.Q8, N, K, G: 32, sym: true, scaleF16: false };
    else t = { value: v, type: this.opts.floatDtype === 'f16' ? WType.F16 : WType.F32, N, K, G: K, sym: true, scaleF16: false };
    if (t.type === WType.Q4 && ![32, 64, 128].includes(t.G)) unsupported(node, `${v.name}: int4 groups of ${t.G} (kernels-arm has 32, 64, 128)`);
    return this.addTensor({ ...t, bytes: packedBytes(t.type, N, K, t.G, t.sym, t.scaleF16) });
  }

  /** A float32 vector parameter of `n` values (norm weights, RoPE inverse frequencies). */
  vector(node: AnyNode, v: Value, n: number): number {
    const known = this.tensorOf.get(v.id);
    if (known !== undefined) {
      if (this.tensors[known].type !== VEC || this.tensors[known].N !== n) unsupported(node, `${v.name} is used as a matrix and a vector, or with two lengths`);
      return known;
    }
    if (!v.param || v.type.quant) unsupported(node, `${v.name} must be a float weight parameter`);
    if (v.type.shape.length !== 1 || v.type.shape[0] !== n) unsupported(node, `${v.name} must have ${n} values`);
    return this.addTensor({ value: v, type: VEC, N: n, K: 1, G: 0, sym: true, scaleF16: false, bytes: 4 * n });
  }

  private addTensor(t: ProgramTensor): number {
    this.tensors.push(t);
    this.tensorOf.set(t.value.id, this.tensors.length - 1);
    return this.tensors.length - 1;
  }

  view(node: AnyNode, v: Value): Placed {
    const p = this.placed.get(v.id);
    if (!p) unsupported(node, `input ${v.name} is not computed by an earlier op (or is a runtime input used directly)`);
    return p;
  }

  /** A contiguous view of v (copied when v is a column block of a wider buffer). */
  contiguous(node: AnyNode, v: Value): Placed {
    const p = this.view(node, v);
    if (p.off === 0 && p.ld === p.width) return p;
    const c = this.temp(p.width);
    this.emit(node, Op.Copy, [p, c], [], [p.width]);
    return c;
  }

  /** A buffer for the current node only, released with the node's dead inputs. */
  temp(width: number): Placed {
    const t = this.fresh(width);
    this.temps.push(t);
    return t;
  }

  /** A fresh buffer of `width` columns, reusing a dead slot when one is free. */
  fresh(width: number): Placed {
    let best = -1;
    for (const s of this.free) if (this.slotWidth[s] >= width && (best < 0 || this.slotWidth[s] < this.slotWidth[best])) best = s;
    if (best < 0)
      for (const s of this.free) if (best < 0 || this.slotWidth[s] > this.slotWidth[best]) best = s;
    if (best < 0) {
      best = this.slotWidth.length;
      this.slotWidth.push(width);
      this.slotRefs.push(0);
    } else {
      this.free.delete(best);
      this.slotWidth[best] = Math.max(this.slotWidth[best], width);
    }
    this.slotRefs[best]++;
    return { slot: best, ld: width, off: 0, width };
  }

  /** Drop one reference to a slot (a temporary, or a dead value's view). */
  release(p: View): void {
    if (p.slot === SLOT_LOGITS) return;
    if (--this.slotRefs[p.slot] === 0) this.free.add(p.slot);
  }

  place(v: Value, p: Placed): void {
    this.placed.set(v.id, p);
  }

  /** Another IR value viewing the same buffer (split outputs). */
  alias(v: Value, p: Placed): void {
    this.slotRefs[p.slot]++;
    this.placed.set(v.id, p);
  }

  /** True when nothing after the current node reads any value in slot s except `v`. */
  onlyReader(v: Value, s: number): boolean {
    if (this.slotRefs[s] !== 1) return false;
    return (this.lastUse.get(v.id) ?? -1) <= this.index;
  }

  /** After node i: free the buffers of values it read for the last time. */
  retire(node: AnyNode): void {
    for (const t of this.temps.splice(0)) this.release(t);
    const seen = new Set<number>();
    for (const v of node.inputs) {
      if (seen.has(v.id) || this.lastUse.get(v.id) !== this.index) continue;
      seen.add(v.id);
      const p = this.placed.get(v.id);
      if (!p) continue;
      this.placed.delete(v.id);
      this.release(p);
    }
    for (const v of node.outputs) {
      // outputs nobody reads (e.g. the last skip norm's sum) die at once
      if (this.lastUse.has(v.id)) continue;
      const p = this.placed.get(v.id);
      if (p) {
        this.placed.delete(v.id);
        this.release(p);
      }
    }
  }

  /** The output buffer of a linear: the caller's logits for the graph's logits, else a fresh one. */
  linearOut(out: Value, N: number): { view: Placed; lmHead: number } {
    if (out.id === this.logits.id) return { view: { slot: SLOT_LOGITS, ld: N, off: 0, width: N }, lmHead: 1 };
    return { view: this.fresh(N), lmHead: 0 };
  }

  runtimeInput(node: AnyNode, v: Value, index: number, what: string): void {
    if (v.id !== this.graph.inputs[index].id) unsupported(node, `${what} must be the graph's ${this.graph.inputs[index].name}`);
  }

  cacheLayer(node: AnyNode, pastK: Value, pastV: Value, presentK: Value, presentV: Value): number {
    const l = this.layerOfPast.get(pastK.id);
    if (l === undefined || this.graph.inputs[2 + 2 * l].id !== pastK.id || this.graph.inputs[3 + 2 * l].id !== pastV.id)
      unsupported(node, 'past key/value must be the graph inputs of one layer');
    if (this.layerOfPresent.get(presentK.id) !== l || this.graph.outputs[1 + 2 * l].id !== presentK.id || this.graph.outputs[2 + 2 * l].id !== presentV.id)
      unsupported(node, `present key/value must be the graph outputs of layer ${l}`);
    return l;
  }
}

function width(node: AnyNode, v: Value): number {
  const w = v.type.shape[1];
  if (typeof w !== 'number') unsupported(node, `${v.name} has a symbolic width`);
  return w;
}

type Lower<K extends OpKind> = (node: Node<K>, cx: Lowering) => void;
/** The lowering function of each op kind (the target's Fns for the contract in ../lowering.ts). */
export type NeonFns = { readonly [K in OpKind]: Lower<K> };

function attentionLike(node: Node<'attention'> | Node<'rope_attention'>, cx: Lowering, q: View, k: View, v: View): void {
  const a = node.attrs;
  const [pastK, pastV] = [node.inputs[3], node.inputs[4]];
  const [y, presentK, presentV] = node.outputs;
  const layer = cx.cacheLayer(node, pastK, pastV, presentK, presentV);
  if (a.kvHeads !== cx.graph.info.numKvHeads || a.headDim !== cx.graph.info.headDim) unsupported(node, 'attention heads differ from the model info (one KV cache shape per model)');
  const out = cx.fresh(a.heads * a.headDim);
  cx.emit(node, Op.Attention, [q, k, v, out], [], [a.heads, a.kvHeads, a.headDim, layer], a.scale);
  cx.place(y, out);
}

/** Every op kind lowers (the runtime has an op or a composition for each). */
export const NEON_LOWERING: LoweringTable<NeonFns> = {
  embedding: (node, cx) => {
    const [table, ids] = node.inputs;
    cx.runtimeInput(node, ids, 0, 'token ids');
    const t = cx.matrix(node, table);
    const out = cx.fresh(cx.tensors[t].K);
    cx.emit(node, Op.Embed, [out], [t], []);
    cx.place(node.outputs[0], out);
  },
  rms_norm: (node, cx) => {
    const [x, w] = node.inputs;
    const n = width(node, x);
    const xv = cx.view(node, x);
    const out = cx.fresh(n);
    cx.emit(node, Op.RmsNorm, [xv, out], [cx.vector(node, w, n)], [n], node.attrs.eps);
    cx.place(node.outputs[0], out);
  },
  linear: (node, cx) => {
    const [x, w] = node.inputs;
    const t = cx.matrix(node, w);
    const xv = cx.contiguous(node, x);
    const { view, lmHead } = cx.linearOut(node.outputs[0], cx.tensors[t].N);
    cx.emit(node, Op.Linear, [xv, view], [t], [lmHead]);
    if (!lmHead) cx.place(node.outputs[0], view);
  },
  rope: (node, cx) => {
    const [x, pos, inv] = node.inputs;
    cx.runtimeInput(node, pos, 1, 'positions');
    const { heads, headDim } = node.attrs;
    const n = heads * headDim;
    const xv = cx.view(node, x);
    const out = cx.fresh(n);
    cx.emit(node, Op.Copy, [xv, out], [], [n]);
    cx.emit(node, Op.Rope, [out], [cx.vector(node, inv, headDim / 2)], [heads, headDim]);
    cx.place(node.outputs[0], out);
  },
  attention: (node, cx) => {
    const [q, k, v] = node.inputs;
    attentionLike(node, cx, cx.view(node, q), cx.view(node, k), cx.view(node, v));
  },
  silu: (node, cx) => {
    const n = width(node, node.inputs[0]);
    const xv = cx.view(node, node.inputs[0]);
    const out = cx.fresh(n);
    cx.emit(node, Op.Silu, [xv, out], [], [n]);
    cx.place(node.outputs[0], out);
  },
  mul: (node, cx) => binary(node, cx, Op.Mul),
  add: (node, cx) => binary(node, cx, Op.Add),
  split: (node, cx) => {
    const src = cx.view(node, node.inputs[0]);
    let off = src.off;
    node.attrs.sizes.forEach((n, i) => {
      cx.alias(node.outputs[i], { slot: src.slot, ld: src.ld, off, width: n });
      off += n;
    });
  },
  rope_attention: (node, cx) => {
    const [qkv, pos, inv] = node.inputs;
    cx.runtimeInput(node, pos, 1, 'positions');
    const { heads: H, kvHeads: Hkv, headDim: hd } = node.attrs;
    let src = cx.view(node, qkv);
    // RoPE rotates q and k in place inside the fused rows; copy only if someone else reads them.
    if (!cx.onlyReader(qkv, src.slot)) {
      const c = cx.temp(src.width);
      cx.emit(node, Op.Copy, [src, c], [], [src.width]);
      src = c;
    }
    const t = cx.vector(node, inv, hd / 2);
    const q: View = { slot: src.slot, ld: src.ld, off: src.off };
    const k: View = { slot: src.slot, ld: src.ld, off: src.off + H * hd };
    const v: View = { slot: src.slot, ld: src.ld, off: src.off + (H + Hkv) * hd };
    cx.emit(node, Op.Rope, [q], [t], [H, hd]);
    cx.emit(node, Op.Rope, [k], [t], [Hkv, hd]);
    attentionLike(node, cx, q, k, v);
  },
  swiglu: (node, cx) => {
    const F = width(node, node.outputs[0]);
    const gu = cx.view(node, node.inputs[0]);
    const out = cx.fresh(F);
    cx.emit(node, Op.Swiglu, [gu, out], [], [F]);
    cx.place(node.outputs[0], out);
  },
  skip_rms_norm: (node, cx) => {
    const [x, r, w] = node.inputs;
    const n = width(node, x);
    const xv = cx.view(node, x);
    const rv = cx.view(node, r);
    const normed = cx.fresh(n);
    const sum = cx.fresh(n);
    cx.emit(node, Op.SkipRmsNorm, [xv, rv, normed, sum], [cx.vector(node, w, n)], [n], node.attrs.eps);
    cx.place(node.outputs[0], normed);
    cx.place(node.outputs[1], sum);
  },
  rms_norm_linear: (node, cx) => {
    const [x, nw, w] = node.inputs;
    const n = width(node, x);
    const t = cx.matrix(node, w);
    const xv = cx.view(node, x);
    const normed = cx.temp(n);
    cx.emit(node, Op.RmsNorm, [xv, normed], [cx.vector(node, nw, n)], [n], node.attrs.eps);
    const { view, lmHead } = cx.linearOut(node.outputs[0], cx.tensors[t].N);
    cx.emit(node, Op.Linear, [normed, view], [t], [lmHead]);
    if (!lmHead) cx.place(node.outputs[0], view);
  },
};

function binary(node: Node<'add'> | Node<'mul'>, cx: Lowering, code: Op): void {
  const [a, b] = node.inputs;
  const n = width(node, a);
  const av = cx.view(node, a);
  const bv = cx.view(node, b);
  const out = cx.fresh(n);
  cx.emit(node, code, [av, bv, out], [], [n]);
  cx.place(node.outputs[0], out);
}

/** Lower a graph (any Llama shape, fused or not, float or quantized) to the runtime's op list. */
export function lowerGraph(graph: Graph, opts: LowerOptions): Program {
  const cx = new Lowering(graph, opts);
  const { info } = graph;
  if (graph.inputs.length < 4 || (graph.inputs.length - 2) % 2 !== 0) throw new LlamacError('--target neon: the graph needs input_ids, position_ids and past key/value per layer');
  graph.nodes.forEach((node, i) => {
    cx.index = i;
    (loweringOf('neon', NEON_LOWERING[node.op], node.op) as Lower<typeof node.op>)(node as never, cx);
    cx.retire(node);
  });
  const producedLogits = cx.ops.some((o) => o.code === Op.Linear && o.ints[0] === 1);
  if (!producedLogits) throw new LlamacError('--target neon: the logits must be the output of a linear or rms_norm_linear');
  return {
    tensors: cx.tensors,
    slots: cx.slotWidth,
    ops: cx.ops,
    layers: (graph.inputs.length - 2) / 2,
    vocab: info.vocabSize,
    kvHeads: info.numKvHeads,
    headDim: info.headDim,
  };
}

const OP_NAMES: Readonly<Record<Op, string>> = {
  [Op.Embed]: 'embed',
  [Op.RmsNorm]: 'rms_norm',
  [Op.Linear]: 'linear',
  [Op.Rope]: 'rope',
  [Op.Attention]: 'attention',
  [Op.Swiglu]: 'swiglu',
  [Op.Add]: 'add',
  [Op.Mul]: 'mul',
  [Op.Silu]: 'silu',
  [Op.Copy]: 'copy',
  [Op.SkipRmsNorm]: 'skip_rms_norm',
};
const TYPE_NAMES = ['q4', 'q8', 'f16', 'f32', 'vec'];

/** The op list as text (program.txt in the artifact; snapshot-tested): what the runtime will run. */
export function formatProgram(p: Program): string {
  const view = (v: View): string => (v.slot === SLOT_LOGITS ? 'logits' : `s${v.slot}[${v.off}:+ld${v.ld}]`);
  const lines = [
    `# ${p.layers} layers, vocab ${p.vocab}, kv heads ${p.kvHeads}, head_dim ${p.headDim}; buffers (columns x ${MAX_CHUNK} rows): ${p.slots.join(' ')}`,
    ...p.tensors.map((t, i) => `t${i} ${TYPE_NAMES[t.type]} [${t.N}, ${t.K}]${t.type === WType.Q4 ? ` g${t.G} ${t.sym ? 'sym' : 'asym'} ${t.scaleF16 ? 'f16' : 'f32'}-scales` : ''} ${t.bytes} bytes  ${t.value.name}`),
    ...p.ops.map((o) => {
      const ints = o.ints.length ? ` i=${o.ints.join(',')}` : '';
      const f = o.f !== 0 ? ` f=${o.f.toPrecision(6)}` : '';
      return `${OP_NAMES[o.code].padEnd(13)} ${o.views.map(view).join(' ')}${o.tensors.length ? ' ' + o.tensors.map((t) => `t${t}`).join(' ') : ''}${ints}${f}  # ${o.from}`;
    }),
  ];
  return lines.join('\n') + '\n';
}
