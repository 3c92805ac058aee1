// The graph: SSA values, nodes in topological order, weight parameters as values with a source.
// Parameters point into the checkpoint until materialized, so importing a 3B model reads no weights.

import type { QuantizedMatrix } from './quantized.js';
import type { TensorType } from './types.js';
import type { OpAttrs, OpKind } from './ops.js';

/** Where a parameter's numbers come from. Lazy kinds are read only when a consumer asks. */
export type WeightSource =
  /** A tensor of the checkpoint, by its Hugging Face name; read by offset when needed. */
  | { readonly kind: 'checkpoint'; readonly tensor: string }
  /** Rows of several sources stacked (fused QKV, gate+up); stays lazy. */
  | { readonly kind: 'concat_rows'; readonly parts: readonly WeightSource[] }
  /** A source with each column k multiplied by colScale[k] (activation-aware scaling folded in). */
  | { readonly kind: 'scale_cols'; readonly base: WeightSource; readonly colScale: Float32Array }
  /** A source [N, K] with each row n multiplied by rowScale[n] (up_proj rows divided by AWQ scales). */
  | { readonly kind: 'scale_rows'; readonly base: WeightSource; readonly rowScale: Float32Array }
  /** A source with every element multiplied by elemScale[i] (norm weights divided by AWQ scales). */
  | { readonly kind: 'scale_elems'; readonly base: WeightSource; readonly elemScale: Float32Array }
  /** Numbers computed by the compiler (RoPE tables, transformed weights). */
  | { readonly kind: 'constant'; readonly data: Float32Array }
  /** Quantized weights in the plain layout (compiler/ir/quantized.ts), with what they came from. */
  | { readonly kind: 'quantized'; readonly matrix: QuantizedMatrix; readonly from: WeightSource };

export interface Value {
  readonly id: number;
  readonly name: string;
  readonly type: TensorType;
  /** Set for parameters (weights and constant tables). */
  readonly param?: WeightSource;
}

export interface Node<K extends OpKind = OpKind> {
  readonly op: K;
  readonly name: string;
  readonly inputs: readonly Value[];
  readonly outputs: readonly Value[];
  readonly attrs: OpAttrs[K];
}

/** A node whose `op` narrows its `attrs` (switch on node.op). */
export type AnyNode = { [K in OpKind]: Node<K> }[OpKind];

/** Model-level facts every target needs (names the graph's runtime inputs and cache layout). */
export interface ModelInfo {
  readonly name: string;
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly intermediateSize: number;
  readonly maxPositions: number;
  readonly rmsNormEps: number;
  readonly ropeTheta: number;
  readonly tiedEmbeddings: boolean;
  readonly bosTokenId: number | null;
  readonly eosTokenIds: readonly number[];
}

export interface Graph {
  readonly info: ModelInfo;
  /** Runtime inputs: input_ids [seq], position_ids [seq], then past.{i}.key/value [kvh, past, hd]. */
  readonly inputs: readonly Value[];
  /** logits [seq, vocab], then present.{i}.key/value [kvh, total, hd]. */
  readonly outputs: readonly Value[];
  readonly nodes: readonly AnyNode[];
  /** Every parameter value, in a stable order (emission order of targets). */
  readonly params: readonly Value[];
}

/** Builds graphs with fresh value ids; passes use it to rebuild a graph functionally. */
export class GraphBuilder {
  private nextId = 0;
  readonly nodes: AnyNode[] = [];
  readonly params: Value[] = [];

  constructor(startId = 0) {
    this.nextId = startId;
  }

  value(name: string, type: TensorType): Value {
    return { id: this.nextId++, name, type };
  }

  param(name: string, type: TensorType, source: WeightSource): Value {
    const v: Value = { id: this.nextId++, name, type, param: source };
    this.params.push(v);
    return v;
  }

  node<K extends OpKind>(op: K, name: string, inputs: readonly Value[], outputs: readonly Value[], attrs: OpAttrs[K]): Node<K> {
    const n: Node<K> = { op, name, inputs, outputs, attrs };
    this.nodes.push(n as AnyNode);
    return n;
  }
}

/** Highest value id in use + 1, so a pass can mint new values without collisions. */
export function nextFreeId(g: Graph): number {
  let max = -1;
  for (const v of g.inputs) max = Math.max(max, v.id);
  for (const p of g.params) max = Math.max(max, p.id);
  for (const n of g.nodes) for (const o of n.outputs) max = Math.max(max, o.id);
  return max + 1;
}

/** Map from value id to the nodes that read it (onnx-ir style `uses()`). */
export function usesOf(g: Graph): Map<number, AnyNode[]> {
  const uses = new Map<number, AnyNode[]>();
  for (const n of g.nodes) {
    for (const v of n.inputs) {
      const list = uses.get(v.id);
      if (list) list.push(n);
      else uses.set(v.id, [n]);
    }
  }
  return uses;
}

/** Map from value id to the node that produces it. */
export function producers(g: Graph): Map<number, AnyNode> {
  const m = new Map<number, AnyNode>();
  for (const n of g.nodes) for (const o of n.outputs) m.set(o.id, n);
  return m;
}
