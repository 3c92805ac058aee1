// One Llama decoder layer's decode step as a list of kernel dispatches: how the kernels compose
// (the WebGPU target drives them the same way). Used by layer.test.ts (against the float32
// reference layer) and by the benchmark (time per layer at real model shapes).
import { storage, type BufferCopy, type Dispatch, type Gpu } from './gpu.js';
import {
  add,
  attentionDecode,
  attentionDecodeQ8,
  decodeScratch,
  defaultVariant,
  gemv,
  gemvRgStageBytes,
  gemvQ8,
  q8Vector,
  rmsnorm,
  rmsnormQ8,
  rope,
  swiglu,
  swigluQ8,
  type DecodeScratch,
  type GemvOptions,
  type GemvQ8Options,
  type GpuMatrix,
  type Q8Vector,
} from './kernels.js';

export interface LayerShape {
  readonly hidden: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly inter: number;
  readonly eps: number;
}

export interface LayerWeights {
  readonly wq: GpuMatrix;
  readonly wk: GpuMatrix;
  readonly wv: GpuMatrix;
  readonly wo: GpuMatrix;
  readonly wg: GpuMatrix;
  readonly wu: GpuMatrix;
  readonly wd: GpuMatrix;
  /** RMSNorm weights [hidden] before attention and before the MLP */
  readonly norm1: GPUBuffer;
  readonly norm2: GPUBuffer;
}

/** The layer's KV cache [capacity, kvHeads, headDim] and RoPE inputs. */
export interface LayerCache {
  readonly k: GPUBuffer;
  readonly v: GPUBuffer;
  /** inverse frequencies [headDim / 2] (ropeInvFreq) */
  readonly invFreq: GPUBuffer;
  /** u32 [1]: the new token's position */
  readonly pos: GPUBuffer;
}

/** Intermediate buffers of one decode step, reusable across layers of the same shape. */
export interface LayerScratch {
  readonly f32: Readonly<Record<'h' | 'q' | 'k' | 'v' | 'qr' | 'kr' | 'attn' | 'o' | 'x2' | 'h2' | 'gate' | 'up' | 'act' | 'down', GPUBuffer>>;
  /** int8 inputs of the matrices on the int8-activation path */
  readonly q8: Readonly<Record<'h' | 'attn' | 'h2' | 'act', Q8Vector>>;
  readonly attention: DecodeScratch;
  destroy(): void;
}

export function layerScratch(gpu: Gpu, s: LayerShape): LayerScratch {
  const qd = s.heads * s.headDim;
  const kvd = s.kvHeads * s.headDim;
  const sizes = { h: s.hidden, q: qd, k: kvd, v: kvd, qr: qd, kr: kvd, attn: qd, o: s.hidden, x2: s.hidden, h2: s.hidden, gate: s.inter, up: s.inter, act: s.inter, down: s.hidden };
  const f32 = Object.fromEntries(Object.entries(sizes).map(([k, n]) => [k, storage(gpu, n * 4)])) as LayerScratch['f32'];
  const q8 = { h: q8Vector(gpu, s.hidden), attn: q8Vector(gpu, qd), h2: q8Vector(gpu, s.hidden), act: q8Vector(gpu, s.inter) };
  const attention = decodeScratch(gpu, { Hq: s.heads, Hkv: s.kvHeads, D: s.headDim, scale: 1 });
  return {
    f32,
    q8,
    attention,
    destroy: () => {
      Object.values(f32).forEach((b) => b.destroy());
      Object.values(q8).forEach((v) => v.destroy());
      [attention.partO, attention.partML].forEach((b) => b.destroy());
    },
  };
}

export interface DecodeLayerOptions {
  /** 'f32x': float activations (gemv); 'q8x': int8 activations (fused producers + gemvQ8) */
  readonly path: 'f32x' | 'q8x';
  /** append the new k/v to the cache at position S - 1 (buffer copies between passes; default true) */
  readonly appendKv?: boolean;
  /** float path GEMV options (variant 'rg' falls back to the default variant where x does not fit) */
  readonly gemv?: GemvOptions;
  readonly gemvQ8?: GemvQ8Options;
}

/**
 * out = layer(x) for the token at position S - 1 attending to cache rows 0 .. S - 1: RMSNorm,
 * q/k/v, RoPE, KV append, split-K attention, o_proj + residual, RMSNorm, SwiGLU MLP + residual.
 */
export function decodeLayer(
  gpu: Gpu,
  s: LayerShape,
  w: LayerWeights,
  cache: LayerCache,
  S: number,
  x: GPUBuffer,
  out: GPUBuffer,
  t: LayerScratch,
  opts: DecodeLayerOptions,
): (Dispatch | BufferCopy)[] {
  const b = t.f32;
  const attn = { Hq: s.heads, Hkv: s.kvHeads, D: s.headDim, scale: 1 / Math.sqrt(s.headDim) };
  const kvBytes = s.kvHeads * s.headDim * 4;
  const append: BufferCopy[] =
    opts.appendKv === false
      ? []
      : [
          { copy: { src: b.kr, dst: cache.k, dstOffset: (S - 1) * kvBytes, bytes: kvBytes } },
          { copy: { src: b.v, dst: cache.v, dstOffset: (S - 1) * kvBytes, bytes: kvBytes } },
        ];
  // The two paths differ only in how a matrix input is produced and read: a float vector, or int8
  // blocks written by its producer (no quant_x dispatch). Inputs are named by their scratch slot.
  type Input = 'h' | 'attn' | 'h2' | 'act';
  interface Path {
    norm(src: GPUBuffer, weight: GPUBuffer, dst: 'h' | 'h2'): Dispatch;
    mv(m: GpuMatrix, src: Input, y: GPUBuffer): Dispatch[];
    attention(): Dispatch[];
    swiglu(): Dispatch;
  }
  let path: Path;
  if (opts.path === 'f32x') {
    // rg where this matrix's x fits workgroup memory, else the default variant with the same geometry
    const gemvOpts = (m: GpuMatrix): GemvOptions | undefined =>
      opts.gemv?.variant === 'rg' && gemvRgStageBytes(m.meta) > gpu.maxWorkgroupStorage ? { ...opts.gemv, variant: defaultVariant(gpu, 'gemv'), unroll: undefined } : opts.gemv;
    path = {
      norm: (src, weight, dst) => rmsnorm(gpu, src, weight, b[dst], 1, s.hidden, s.eps),
      mv: (m, src, y) => gemv(gpu, m, b[src], y, gemvOpts(m)),
      attention: () => attentionDecode(gpu, attn, S, b.qr, cache.k, cache.v, b.attn, t.attention),
      swiglu: () => swiglu(gpu, b.gate, b.up, b.act, s.inter),
    };
  } else {
    const q = t.q8;
    path = {
      norm: (src, weight, dst) => rmsnormQ8(gpu, src, weight, q[dst], s.eps),
      mv: (m, src, y) => gemvQ8(gpu, m, q[src], y, opts.gemvQ8),
      attention: () => attentionDecodeQ8(gpu, attn, S, b.qr, cache.k, cache.v, q.attn, t.attention),
      swiglu: () => swigluQ8(gpu, b.gate, b.up, q.act),
    };
  }
  return [
    path.norm(x, w.norm1, 'h'),
    ...path.mv(w.wq, 'h', b.q),
    ...path.mv(w.wk, 'h', b.k),
    ...path.mv(w.wv, 'h', b.v),
    rope(gpu, b.q, cache.pos, cache.invFreq, b.qr, 1, s.heads, s.headDim),
    rope(gpu, b.k, cache.pos, cache.invFreq, b.kr, 1, s.kvHeads, s.headDim),
    ...append,
    ...path.attention(),
    ...path.mv(w.wo, 'attn', b.o),
    add(gpu, x, b.o, b.x2, s.hidden),
    path.norm(b.x2, w.norm2, 'h2'),
    ...path.mv(w.wg, 'h2', b.gate),
    ...path.mv(w.wu, 'h2', b.up),
    path.swiglu(),
    ...path.mv(w.wd, 'act', b.down),
    add(gpu, b.x2, b.down, out, s.hidden),
  ];
}
