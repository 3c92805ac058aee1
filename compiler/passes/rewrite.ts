// Shared machinery of the rewriting passes: a read-only index of the input graph (producers, uses)
// and a Rewrite that collects edits and builds a new graph from them, never touching the input.

import { nextFreeId, producers, usesOf, type AnyNode, type Graph, type Value, type WeightSource } from '../ir/graph.js';
import { tensorType, type TensorType } from '../ir/types.js';

/** Who produces and who reads each value of a graph, computed once per pass. */
export class GraphIndex {
  private readonly uses: Map<number, AnyNode[]>;
  private readonly producer: Map<number, AnyNode>;
  private readonly outputIds: Set<number>;

  constructor(readonly graph: Graph) {
    this.uses = usesOf(graph);
    this.producer = producers(graph);
    this.outputIds = new Set(graph.outputs.map((v) => v.id));
  }

  producerOf(v: Value): AnyNode | undefined {
    return this.producer.get(v.id);
  }

  /** The producer of v when it is an `op` node. */
  producedBy<K extends AnyNode['op']>(v: Value, op: K): Extract<AnyNode, { op: K }> | undefined {
    const n = this.producer.get(v.id);
    return n && isOp(n, op) ? n : undefined;
  }

  /** Nodes reading v, once per reading input slot. */
  usersOf(v: Value): readonly AnyNode[] {
    return this.uses.get(v.id) ?? [];
  }

  isGraphOutput(v: Value): boolean {
    return this.outputIds.has(v.id);
  }

  /** True when v is read by `node` alone (in one or more slots) and is not a graph output. */
  onlyUsedBy(v: Value, node: AnyNode): boolean {
    const users = this.usersOf(v);
    return !this.isGraphOutput(v) && users.length > 0 && users.every((u) => u === node);
  }
}

export function isOp<K extends AnyNode['op']>(n: AnyNode, op: K): n is Extract<AnyNode, { op: K }> {
  return n.op === op;
}

/** A dense weight parameter a fusion may stack lazily (quantized ones have their own layout). */
export function isStackableWeight(v: Value): v is Value & { readonly param: WeightSource } {
  return v.param !== undefined && v.param.kind !== 'quantized' && v.type.quant === undefined && v.type.shape.length === 2 && v.type.shape.every((d) => typeof d === 'number');
}

/**
 * Name for something made of several named things: their common prefix (cut at a '.'), the parts
 * that differ joined, then their common suffix. ['layers.0.q', 'layers.0.k'] -> 'layers.0.qk';
 * ['m.gate_proj.weight', 'm.up_proj.weight'] -> 'm.gate_up_proj.weight'. Cosmetic only.
 */
export function joinNames(names: readonly string[]): string {
  if (names.length === 0) return 'fused';
  const first = names[0];
  let pre = 0;
  while (pre < first.length && names.every((n) => n[pre] === first[pre])) pre++;
  pre = pre === 0 ? 0 : first.lastIndexOf('.', pre - 1) + 1;
  const minLen = Math.min(...names.map((n) => n.length));
  let suf = 0;
  while (suf < minLen - pre && names.every((n) => n[n.length - 1 - suf] === first[first.length - 1 - suf])) suf++;
  // Keep a separator-led suffix ('_proj.weight'), not a stray letter shared by chance.
  const tail = first.slice(first.length - suf);
  const cut = tail.search(/[._]/);
  suf = cut < 0 ? 0 : suf - cut;
  const middles = names.map((n) => n.slice(pre, n.length - suf));
  if (middles.some((m) => m.length === 0)) return names.join('+');
  const sep = middles.every((m) => m.length === 1) ? '' : '_';
  return first.slice(0, pre) + middles.join(sep) + first.slice(first.length - suf);
}

/** `leaf` in the dotted scope the names share: (['layers.0.silu', 'layers.0.mul'], 'swiglu') -> 'layers.0.swiglu'. */
export function scopedName(names: readonly string[], leaf: string): string {
  const first = names[0] ?? '';
  let pre = 0;
  while (pre < first.length && names.every((n) => n[pre] === first[pre])) pre++;
  return (pre === 0 ? '' : first.slice(0, first.lastIndexOf('.', pre - 1) + 1)) + leaf;
}

/** Hands out names not yet used in a graph (value and node names are separate namespaces). */
class NameSet {
  private readonly taken = new Set<string>();
  add(name: string): void {
    this.taken.add(name);
  }
  fresh(base: string): string {
    let name = base;
    for (let i = 1; this.taken.has(name); i++) name = `${base}.${i}`;
    this.taken.add(name);
    return name;
  }
}

/**
 * Edits to one graph, applied by finish() into a new graph. Matched nodes are removed and their
 * replacements put at the position of the last of them; finish() then restores topological order
 * (a replacement may feed a node that sat between the matched ones). Values and parameters not
 * edited are the very same objects in the new graph.
 */
export class Rewrite {
  readonly index: GraphIndex;
  private nextId: number;
  private readonly valueNames = new NameSet();
  private readonly nodeNames = new NameSet();
  private readonly removed = new Set<AnyNode>();
  private readonly insertAt = new Map<AnyNode, AnyNode[]>();
  private readonly paramsBefore = new Map<Value, Value[]>();
  private readonly droppedParams = new Set<Value>();
  private readonly substitution = new Map<number, Value>();
  private readonly position: Map<AnyNode, number>;
  private changed = false;

  constructor(readonly graph: Graph) {
    this.index = new GraphIndex(graph);
    this.position = new Map(graph.nodes.map((n, i) => [n, i]));
    this.nextId = nextFreeId(graph);
    for (const v of [...graph.inputs, ...graph.params]) this.valueNames.add(v.name);
    for (const n of graph.nodes) {
      this.nodeNames.add(n.name);
      for (const o of n.outputs) this.valueNames.add(o.name);
    }
  }

  /** True once a node is part of an edit, so matches of one pass never overlap. */
  claimed(n: AnyNode): boolean {
    return this.removed.has(n);
  }

  value(baseName: string, type: TensorType): Value {
    return { id: this.nextId++, name: this.valueNames.fresh(baseName), type };
  }

  /** A new parameter, listed just before `near` so params stay grouped by layer. */
  param(baseName: string, type: TensorType, source: WeightSource, near: Value): Value {
    const v: Value = { id: this.nextId++, name: this.valueNames.fresh(baseName), type, param: source };
    const list = this.paramsBefore.get(near);
    if (list) list.push(v);
    else this.paramsBefore.set(near, [v]);
    this.changed = true;
    return v;
  }

  nodeName(baseName: string): string {
    return this.nodeNames.fresh(baseName);
  }

  /** Remove `matched` and put `replacement` where the last of them was. */
  replace(matched: readonly AnyNode[], replacement: readonly AnyNode[]): void {
    for (const n of matched) {
      if (this.removed.has(n)) throw new Error(`internal: node ${n.name} rewritten twice`);
      this.removed.add(n);
    }
    const at = (n: AnyNode): number => this.position.get(n) ?? -1;
    const anchor = matched.reduce((a, b) => (at(b) > at(a) ? b : a));
    this.insertAt.set(anchor, [...(this.insertAt.get(anchor) ?? []), ...replacement]);
    this.changed = true;
  }

  /** Every read of `from` (node inputs and graph outputs) reads `to` instead. */
  substitute(from: Value, to: Value): void {
    this.substitution.set(from.id, to);
    this.changed = true;
  }

  dropParam(p: Value): void {
    this.droppedParams.add(p);
    this.changed = true;
  }

  /** The rewritten graph, or the input graph itself when nothing was edited. */
  finish(): Graph {
    const g = this.graph;
    if (!this.changed) return g;
    const sub = (v: Value): Value => this.substitution.get(v.id) ?? v;
    const withInputs = (n: AnyNode): AnyNode => (n.inputs.some((v) => this.substitution.has(v.id)) ? { ...n, inputs: n.inputs.map(sub) } : n);
    const nodes: AnyNode[] = [];
    for (const n of g.nodes) {
      for (const r of this.insertAt.get(n) ?? []) nodes.push(withInputs(r));
      if (!this.removed.has(n)) nodes.push(withInputs(n));
    }
    const params: Value[] = [];
    for (const p of g.params) {
      params.push(...(this.paramsBefore.get(p) ?? []));
      if (!this.droppedParams.has(p)) params.push(p);
    }
    return { info: g.info, inputs: g.inputs, outputs: g.outputs.map(sub), nodes: topologicalOrder(nodes), params };
  }
}

/**
 * Nodes in an order where every value is produced before it is read, as close to the given order
 * as possible: each node is emitted after pulling forward the producers it still waits for.
 */
export function topologicalOrder(nodes: readonly AnyNode[]): AnyNode[] {
  const producer = new Map<number, AnyNode>();
  for (const n of nodes) for (const o of n.outputs) producer.set(o.id, n);
  const state = new Map<AnyNode, 'visiting' | 'done'>();
  const out: AnyNode[] = [];
  const visit = (n: AnyNode): void => {
    const s = state.get(n);
    if (s === 'done') return;
    if (s === 'visiting') throw new Error(`internal: rewrite made a cycle through ${n.name}`);
    state.set(n, 'visiting');
    for (const v of n.inputs) {
      const p = producer.get(v.id);
      if (p) visit(p);
    }
    state.set(n, 'done');
    out.push(n);
  };
  for (const n of nodes) visit(n);
  return out;
}

/**
 * Linears reading one input, with dense weights of one dtype: the precondition of stacking them.
 * Returns their weights' row counts, or null when they cannot be stacked.
 */
export function stackableRows(linears: readonly AnyNode[]): number[] | null {
  if (new Set(linears).size !== linears.length) return null;
  const x = linears[0].inputs[0];
  const rows: number[] = [];
  for (const l of linears) {
    const w = l.inputs[1];
    if (l.op !== 'linear' || l.inputs[0].id !== x.id || !isStackableWeight(w) || w.type.dtype !== linears[0].inputs[1].type.dtype) return null;
    const n = w.type.shape[0];
    if (typeof n !== 'number') return null;
    rows.push(n);
  }
  return rows;
}

/**
 * Replace linears that read one input (checked by stackableRows) with one linear over their weights
 * stacked by rows, lazily (no weight is read), and a split that gives back each original output
 * value, so every reader of those values is left as it is.
 */
export function stackLinears(rw: Rewrite, linears: readonly AnyNode[], rows: readonly number[]): void {
  const x = linears[0].inputs[0];
  const weights = linears.map((l) => l.inputs[1]);
  const K = weights[0].type.shape[1];
  const N = rows.reduce((a, b) => a + b, 0);
  const parts = weights.map((w) => {
    if (!w.param) throw new Error(`internal: ${w.name} is not a parameter`);
    return w.param;
  });
  const w = rw.param(joinNames(weights.map((v) => v.name)), tensorType(weights[0].type.dtype, [N, K]), { kind: 'concat_rows', parts }, weights[0]);
  const base = joinNames(linears.map((l) => l.name));
  const y = rw.value(`${base}_proj`, tensorType('f32', [x.type.shape[0], N]));
  rw.replace(linears, [
    { op: 'linear', name: rw.nodeName(`${base}_proj`), inputs: [x, w], outputs: [y], attrs: {} },
    { op: 'split', name: rw.nodeName(`${base}_split`), inputs: [y], outputs: linears.map((l) => l.outputs[0]), attrs: { sizes: rows } },
  ]);
}
