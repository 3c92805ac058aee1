// Weights for the WebGPU target: every parameter packed into the GPU layout of kernels-wgsl/pack.ts
// (quantized matrices repacked from the IR's exact bits, float matrices as f32 or f16) and written,
// one tensor at a time, into a stream of shard files of at most 32 MiB with their sha256.

import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { AnyNode, Graph, Value } from '../../ir/graph.js';
import { materializeParam, type TensorReader } from '../../ir/materialize.js';
import { LlamacError } from '../../errors.js';
import { packFloat, packQuantized, type PackedMatrix } from '../../../kernels-wgsl/pack.js';
import type { BufferSpec, ShardSpec } from './schedule.js';

/** Bytes per weight shard file (browsers fetch and hash each in one piece). */
export const SHARD_BYTES = 32 * 2 ** 20;
/**
 * Per-binding limit the packer shards matrices for: WebGPU's default maxStorageBufferBindingSize,
 * which every adapter supports, so no binding of the artifact exceeds any device's limit.
 */
export const BINDING_LIMIT = 128 * 2 ** 20;

export interface MatrixShardBuffers {
  readonly rowBase: number;
  readonly rows: number;
  readonly data: string;
  readonly scales: string;
  readonly zeros: string;
}

export type WeightLayout =
  | { readonly kind: 'matrix'; readonly meta: Omit<PackedMatrix, 'shards'>; readonly shards: readonly MatrixShardBuffers[] }
  | { readonly kind: 'vector'; readonly buffer: string; readonly length: number }
  | { readonly kind: 'rope'; readonly invFreq: Float32Array };

/** The 16-byte zero buffer bound where a kernel's scales/zeros binding is unused. */
export const PLACEHOLDER = 'zero16';

/** How each parameter is used decides how it is stored. */
function paramRoles(graph: Graph): Map<number, 'matrix' | 'vector' | 'rope'> {
  const roles = new Map<number, 'matrix' | 'vector' | 'rope'>();
  const set = (v: Value, r: 'matrix' | 'vector' | 'rope', n: AnyNode): void => {
    if (!v.param) return;
    const prev = roles.get(v.id);
    if (prev && prev !== r) throw new LlamacError(`webgpu: parameter ${v.name} is used as a ${prev} and as a ${r} (node ${n.name})`);
    roles.set(v.id, r);
  };
  for (const n of graph.nodes) {
    switch (n.op) {
      case 'linear':
        set(n.inputs[1], 'matrix', n);
        break;
      case 'embedding':
        set(n.inputs[0], 'matrix', n);
        break;
      case 'rms_norm_linear':
        set(n.inputs[1], 'vector', n);
        set(n.inputs[2], 'matrix', n);
        break;
      case 'rms_norm':
        set(n.inputs[1], 'vector', n);
        break;
      case 'skip_rms_norm':
        set(n.inputs[2], 'vector', n);
        break;
      case 'rope_attention':
      case 'rope':
        set(n.inputs[2], 'rope', n);
        break;
      default:
        for (const v of n.inputs) if (v.param) throw new LlamacError(`webgpu: op ${n.op} (node ${n.name}) takes a parameter, which the WebGPU target does not store`);
    }
  }
  return roles;
}

/** Appends bytes to weights-NNN.bin files of at most SHARD_BYTES each. */
class ShardWriter {
  readonly shards: ShardSpec[] = [];
  private fd = -1;
  private hash: Hash | null = null;
  private inShard = 0;
  offset = 0;

  constructor(
    private readonly dir: string,
    private readonly limit: number,
  ) {}

  private open(): void {
    const file = `weights-${String(this.shards.length).padStart(3, '0')}.bin`;
    this.fd = openSync(join(this.dir, file), 'w');
    this.hash = createHash('sha256');
    this.inShard = 0;
    this.shards.push({ file, bytes: 0, sha256: '' });
  }

  private close(): void {
    if (this.fd < 0 || !this.hash) return;
    closeSync(this.fd);
    const last = this.shards.length - 1;
    this.shards[last] = { ...this.shards[last], bytes: this.inShard, sha256: this.hash.digest('hex') };
    this.fd = -1;
    this.hash = null;
  }

  write(data: Uint8Array): number {
    const start = this.offset;
    let pos = 0;
    while (pos < data.length) {
      if (this.fd < 0 || this.inShard === this.limit) {
        this.close();
        this.open();
      }
      const n = Math.min(data.length - pos, this.limit - this.inShard);
      const piece = data.subarray(pos, pos + n);
      writeSync(this.fd, piece);
      this.hash?.update(piece);
      this.inShard += n;
      pos += n;
    }
    this.offset += data.length;
    return start;
  }

  finish(): ShardSpec[] {
    this.close();
    return this.shards;
  }
}

export interface WrittenWeights {
  readonly layouts: Map<number, WeightLayout>;
  readonly buffers: BufferSpec[];
  readonly shards: ShardSpec[];
  readonly bytes: number;
}

const bytesOf = (a: Uint32Array | Float32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

export interface WeightOptions {
  readonly floatKind: 'f32' | 'f16';
  /** shard file size limit (a multiple of 4) */
  readonly shardBytes: number;
  /** per-binding limit matrices are split by rows for */
  readonly bindingLimit: number;
}

/** Packs and writes every parameter (graph.params order: deterministic), one tensor in memory at a time. */
export function writeWeights(graph: Graph, reader: TensorReader, outDir: string, o: WeightOptions): WrittenWeights {
  const roles = paramRoles(graph);
  if (o.shardBytes % 4 !== 0) throw new Error('internal: shard size must be a multiple of 4');
  const w = new ShardWriter(outDir, o.shardBytes);
  const floatKind = o.floatKind;
  const layouts = new Map<number, WeightLayout>();
  const buffers: BufferSpec[] = [{ name: PLACEHOLDER, bytes: 16 }];
  const put = (name: string, data: Uint32Array | Float32Array): string => {
    buffers.push({ name, bytes: data.byteLength, offset: w.write(bytesOf(data)) });
    return name;
  };
  for (const p of graph.params) {
    const role = roles.get(p.id);
    if (!role || !p.param) continue;
    const base = p.name;
    if (role === 'rope') {
      layouts.set(p.id, { kind: 'rope', invFreq: materializeParam(p, reader) });
    } else if (role === 'vector') {
      const data = materializeParam(p, reader);
      layouts.set(p.id, { kind: 'vector', buffer: put(base, data), length: data.length });
    } else {
      const [rows, cols] = p.type.shape.map(Number);
      const packed: PackedMatrix =
        p.param.kind === 'quantized'
          ? packQuantized(p.param.matrix, { maxBindingBytes: o.bindingLimit })
          : packFloat(materializeParam(p, reader), rows, cols, floatKind, { maxBindingBytes: o.bindingLimit });
      const shards = packed.shards.map((s, i) => ({
        rowBase: s.rowBase,
        rows: s.rows,
        data: put(`${base}#${i}.data`, s.data),
        scales: s.scales.length ? put(`${base}#${i}.scales`, s.scales) : PLACEHOLDER,
        zeros: s.zeros ? put(`${base}#${i}.zeros`, s.zeros) : PLACEHOLDER,
      }));
      const { shards: _packedShards, ...meta } = packed;
      layouts.set(p.id, { kind: 'matrix', meta, shards });
    }
  }
  const bytes = w.offset;
  return { layouts, buffers, shards: w.finish(), bytes };
}
