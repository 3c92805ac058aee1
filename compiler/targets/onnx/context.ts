// What a lowering sees: the ONNX graph under construction, the IR value -> ONNX name map, the
// weights in every form an op asks for (each form written once), and per-model tensors shared by
// all layers (shape vectors, RoPE cos/sin, attention lengths or mask).

import type { AnyNode, Node, Value } from '../../ir/graph.js';
import { f32ToF16Bits } from '../../ir/half.js';
import { materializeParam, type TensorReader } from '../../ir/materialize.js';
import type { OpKind } from '../../ir/ops.js';
import type { QuantizedMatrix } from '../../ir/quantized.js';
import { loweringOf, type LoweringTable } from '../lowering.js';
import type { OnnxGraph } from './builder.js';
import { bytesOf, DT } from './proto.js';
import { toBlockedDequant, toMatMulNBits, unpackedZeros } from './repack.js';

export type OnnxOps = 'ort' | 'standard';
export type MatrixDtype = 'f32' | 'f16';

export interface LowerOptions {
  readonly ops: OnnxOps;
  /** Storage of dense matrices (linear and embedding weights); everything else stays f32. */
  readonly matrixDtype: MatrixDtype;
  /** MatMulNBits accuracy_level (0 = compute in float32, 4 = int8 activations). */
  readonly accuracyLevel: number;
}

export type LowerFn<K extends OpKind> = (cx: LowerCtx, node: Node<K>) => void;
export type OnnxLowerFns = { readonly [K in OpKind]: LowerFn<K> };
/** One lowering (or rejection) per op kind: the type checker names a missing one. */
export type OnnxLowering = LoweringTable<OnnxLowerFns>;

export interface MatMulNBitsNames {
  readonly B: string;
  readonly scales: string;
  readonly zeroPoints: string | null;
  readonly bits: 4 | 8;
  readonly blockSize: number;
  readonly nBlocks: number;
  readonly N: number;
  readonly K: number;
}

export function quantizedOf(v: Value): QuantizedMatrix | null {
  return v.param?.kind === 'quantized' ? v.param.matrix : null;
}

export class LowerCtx {
  private readonly names = new Map<number, string>();
  private readonly forms = new Map<string, unknown>();
  private readonly shared = new Map<string, string>();

  constructor(
    readonly g: OnnxGraph,
    readonly opts: LowerOptions,
    private readonly reader: TensorReader,
    /** ONNX names of the runtime inputs the IR does not name (attention_mask) and input_ids. */
    readonly io: { readonly inputIds: string; readonly attentionMask: string },
  ) {}

  bind(v: Value, name: string): void {
    this.names.set(v.id, name);
  }

  /** The ONNX tensor holding an IR activation. */
  in(v: Value): string {
    const n = this.names.get(v.id);
    if (n === undefined) throw new Error(`internal: IR value ${v.name} has no ONNX tensor yet`);
    return n;
  }

  /** The ONNX name an op writes the IR value to (graph outputs keep their pre-bound names). */
  out(v: Value): string {
    const n = this.names.get(v.id);
    if (n !== undefined) return n;
    const fresh = this.g.fresh(v.name);
    this.names.set(v.id, fresh);
    return fresh;
  }

  private form<T>(key: string, make: () => T): T {
    if (this.forms.has(key)) return this.forms.get(key) as T;
    const f = make();
    this.forms.set(key, f);
    return f;
  }

  private sharedTensor(key: string, make: () => string): string {
    let n = this.shared.get(key);
    if (n === undefined) {
      n = make();
      this.shared.set(key, n);
    }
    return n;
  }

  /** A dense parameter in float32, or f16 when it is a matrix and the artifact stores f16. */
  dense(v: Value, dtype: MatrixDtype = 'f32'): string {
    return this.form(`dense:${dtype}:${v.id}`, () => {
      const shape = v.type.shape.map(Number);
      const data = materializeParam(v, this.reader);
      if (dtype === 'f32') return this.g.weight(v.name, DT.float, shape, bytesOf(data));
      const half = new Uint16Array(data.length);
      for (let i = 0; i < data.length; i++) half[i] = f32ToF16Bits(data[i]);
      return this.g.weight(v.name, DT.float16, shape, bytesOf(half));
    });
  }

  /** A matrix weight as float32 for compute (cast from f16 storage when that is the choice). */
  denseMatrix(v: Value): string {
    const w = this.dense(v, this.opts.matrixDtype);
    if (this.opts.matrixDtype === 'f32') return w;
    return this.sharedTensor(`cast:${w}`, () => this.g.op('Cast', [w], `${w}_f32`, { to: DT.float }));
  }

  /** com.microsoft MatMulNBits / GatherBlockQuantized initializers. */
  matMulNBits(v: Value, m: QuantizedMatrix): MatMulNBitsNames {
    return this.form(`mnb:${v.id}`, () => {
      const w = toMatMulNBits(m, v.name);
      const blob = (w.blockSize * w.bits) / 8;
      const tag = `_q${w.bits}`;
      const B = this.g.weight(`${v.name}${tag}`, DT.uint8, [m.rows, w.nBlocks, blob], w.B);
      const scales = this.g.weight(`${v.name}${tag}_scales`, DT.float, [m.rows, w.nBlocks], bytesOf(w.scales));
      const zeroPoints = w.zeroPoints ? this.g.weight(`${v.name}${tag}_zp`, DT.uint8, [m.rows, Math.ceil(w.nBlocks / 2)], w.zeroPoints) : null;
      return { B, scales, zeroPoints, bits: w.bits, blockSize: w.blockSize, nBlocks: w.nBlocks, N: m.rows, K: m.cols };
    });
  }

  /** ai.onnx blocked DequantizeLinear initializers of an int4 matrix, transposed to [K, N]. */
  blockedDequant(v: Value, m: QuantizedMatrix): { data: string; scales: string; zeroPoints: string | null } {
    return this.form(`dq4:${v.id}`, () => {
      const w = toBlockedDequant(m);
      return {
        data: this.g.weight(`${v.name}_q4_kn`, w.signed ? DT.int4 : DT.uint4, [m.cols, m.rows], w.data),
        scales: this.g.weight(`${v.name}_q4_kn_scales`, DT.float, [m.nGroups, m.rows], bytesOf(w.scales)),
        zeroPoints: w.zeroPoints ? this.g.weight(`${v.name}_q4_kn_zp`, DT.uint4, [m.nGroups, m.rows], w.zeroPoints) : null,
      };
    });
  }

  /** int4 rows for a gather: packed bytes [N, nGroups*G/2], scales and one zero byte per group. */
  int4Rows(v: Value, m: QuantizedMatrix): { data: string; scales: string; zeros: string } {
    return this.form(`rows4:${v.id}`, () => ({
      data: this.g.weight(`${v.name}_q4_rows`, DT.uint8, [m.rows, m.data.byteLength / m.rows], bytesOf(m.data)),
      scales: this.g.weight(`${v.name}_q4_rows_scales`, DT.float, [m.rows, m.nGroups], bytesOf(m.scales)),
      zeros: this.g.weight(`${v.name}_q4_rows_zeros`, DT.uint8, [m.rows, m.nGroups], unpackedZeros(m)),
    }));
  }

  /** int8 per-channel matrix as stored: int8 [N, K] and scales [N]. */
  int8Rows(v: Value, m: QuantizedMatrix): { data: string; scales: string } {
    return this.form(`rows8:${v.id}`, () => ({
      data: this.g.weight(`${v.name}_q8`, DT.int8, [m.rows, m.cols], bytesOf(m.data)),
      scales: this.g.weight(`${v.name}_q8_scales`, DT.float, [m.rows], bytesOf(m.scales)),
    }));
  }

  // ---- per-model tensors shared by every layer ----

  /** Shape(input_ids): [batch, seq] as int64 [2]. */
  batchSeq(): string {
    return this.sharedTensor('bs', () => this.g.op('Shape', [this.io.inputIds], 'batch_seq'));
  }

  /** [batch, seq, n] as int64 [3], for reshaping 2-D results back. */
  shape3(n: number): string {
    return this.sharedTensor(`bsn:${n}`, () => this.g.op('Concat', [this.batchSeq(), this.g.int64([n])], `batch_seq_${n}`, { axis: 0 }));
  }

  /** float32(position) * inv_freq, [batch, seq, d/2]: the angle exactly as compiler/frontend/rope.ts computes it. */
  ropeAngles(positions: string, invFreq: Value): string {
    const inv = materializeParam(invFreq, this.reader);
    return this.sharedTensor(`angles:${positions}:${Array.from(inv).join(',')}`, () => {
      const pos = this.sharedTensor(`posf:${positions}`, () => {
        const f = this.g.op('Cast', [positions], 'position_ids_f32', { to: DT.float });
        return this.g.op('Unsqueeze', [f, this.g.int64([-1])], 'position_ids_f32_col');
      });
      return this.g.op('Mul', [pos, this.dense(invFreq)], 'rope_angles');
    });
  }

  /** Memoize any per-model tensor under a key (used by the flavour lowerings). */
  once(key: string, make: () => string): string {
    return this.sharedTensor(key, make);
  }
}

export function lowerNode(table: OnnxLowering, cx: LowerCtx, node: AnyNode): void {
  // The mapped table ties each op to its node type; indexing by a union needs this one widening.
  const fn = loweringOf('onnx', table[node.op], node.op) as LowerFn<typeof node.op>;
  fn(cx, node as never);
}
