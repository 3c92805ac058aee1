// Accumulates ONNX nodes and initializers with unique names. Weights go to the external data
// file as they are first asked for; small constants (shapes, scalars) stay inline.

import { bytesOf, DT, externalTensor, inlineTensor, attribute, type AttrValue, type DataType, type NodeProto, type TensorProto } from './proto.js';
import type { ExternalDataWriter } from './external-data.js';

export const MS_DOMAIN = 'com.microsoft';

export class OnnxGraph {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly used = new Set<string>();
  private readonly constants = new Map<string, string>();
  /** Bytes written per initializer, for the size report. */
  readonly weightBytes = new Map<string, number>();

  constructor(private readonly data: ExternalDataWriter) {}

  /** A fresh tensor name derived from `base`. */
  fresh(base: string): string {
    const clean = base.replace(/[^A-Za-z0-9_.\/-]/g, '_');
    let name = clean;
    for (let i = 1; this.used.has(name); i++) name = `${clean}_${i}`;
    this.used.add(name);
    return name;
  }

  /** Claim an exact name (graph inputs/outputs); it must be free. */
  claim(name: string): string {
    if (this.used.has(name)) throw new Error(`internal: ONNX name ${name} used twice`);
    this.used.add(name);
    return name;
  }

  /** Adds a node writing to the given output names; returns them. */
  node(op: string, inputs: readonly string[], outputs: readonly string[], attrs: Record<string, AttrValue> = {}, domain = ''): string[] {
    this.nodes.push({
      opType: op,
      domain,
      name: `${op}:${outputs.find((o) => o !== '') ?? op}`,
      input: [...inputs],
      output: [...outputs],
      attribute: Object.keys(attrs)
        .sort()
        .map((k) => attribute(k, attrs[k])),
    });
    return [...outputs];
  }

  /** Adds a node with one fresh output named after `base`. */
  op(op: string, inputs: readonly string[], base: string, attrs: Record<string, AttrValue> = {}, domain = ''): string {
    return this.node(op, inputs, [this.fresh(base)], attrs, domain)[0];
  }

  /** An inline int64 constant, shared by content. */
  int64(values: readonly number[], dims: readonly number[] = [values.length]): string {
    const key = `i64:${dims.join('x')}:${values.join(',')}`;
    let name = this.constants.get(key);
    if (!name) {
      name = this.fresh(`const_i64_${values.join('_').slice(0, 40)}`);
      this.initializers.push(inlineTensor(name, DT.int64, dims, bytesOf(BigInt64Array.from(values, (v) => BigInt(v)))));
      this.constants.set(key, name);
    }
    return name;
  }

  /** An inline float32 scalar/vector constant, shared by content. */
  float(values: readonly number[], dims: readonly number[] = []): string {
    const key = `f32:${dims.join('x')}:${values.join(',')}`;
    let name = this.constants.get(key);
    if (!name) {
      name = this.fresh('const_f32');
      this.initializers.push(inlineTensor(name, DT.float, dims, bytesOf(Float32Array.from(values))));
      this.constants.set(key, name);
    }
    return name;
  }

  /** A weight initializer whose bytes are appended to the external data file now. */
  weight(base: string, dt: DataType, dims: readonly number[], bytes: Uint8Array): string {
    return this.weightStream(base, dt, dims, bytes.byteLength, (put) => put(bytes));
  }

  /** A weight initializer of `byteLength` bytes that `fill` writes in pieces (rows of a large table). */
  weightStream(base: string, dt: DataType, dims: readonly number[], byteLength: number, fill: (put: (bytes: Uint8Array) => void) => void): string {
    const name = this.fresh(base);
    const { offset, length } = this.data.writeStream(byteLength, fill);
    this.initializers.push(externalTensor(name, dt, dims, this.data.location, offset, length));
    this.weightBytes.set(name, length);
    return name;
  }
}
