// Kernel table (files, required features, workgroup sizes, dispatch geometry as data) and the
// typed host entry points that turn tensors into dispatches.
import { bindGroup, fold, pipeline, storage, uniform, type Dispatch, type Gpu, type OverrideValues } from './gpu.js';
import { CHUNK_VALUES, KIND_CODE, type PackedMatrix, type WeightKind } from './pack.js';

// device features, and the WGSL language feature of the int8-activation kernels
export type Feature = 'shader-f16' | 'subgroups' | 'packed_4x8_integer_dot_product';
// rg: "row group per subgroup" GEMV with x staged once for the whole K (gemv only)
export type MatVariant = 'base' | 'sg' | 'f16' | 'sg_f16' | 'rg';

interface VariantSpec {
  readonly file: string;
  readonly requires: readonly Feature[];
}

export interface KernelSpec {
  readonly variants: Readonly<Partial<Record<MatVariant, VariantSpec>>>;
  /** Threads per workgroup (x, y) from the override values. */
  readonly workgroup: (o: OverrideValues) => readonly [number, number];
  /** Workgroup grid from the problem size. */
  readonly grid: (size: Readonly<Record<string, number>>, o: OverrideValues) => [number, number, number];
}

const num = (o: OverrideValues, k: string, d: number): number => (typeof o[k] === 'number' ? (o[k] as number) : d);
const one = (file: string): Readonly<Partial<Record<MatVariant, VariantSpec>>> => ({ base: { file, requires: [] } });

export const KERNELS = {
  // one workgroup per ROWS output rows of a shard
  gemv: {
    variants: {
      base: { file: 'gemv.wgsl', requires: [] },
      sg: { file: 'gemv_sg.wgsl', requires: ['subgroups'] },
      f16: { file: 'gemv_f16.wgsl', requires: ['shader-f16'] },
      sg_f16: { file: 'gemv_sg_f16.wgsl', requires: ['subgroups', 'shader-f16'] },
      rg: { file: 'gemv_rg.wgsl', requires: ['subgroups'] },
    },
    workgroup: (o) => [num(o, 'WG', 64), 1],
    // rg: GROUPS row groups of ROWS rows per workgroup; the others: ROWS rows
    grid: (s, o) => fold(Math.ceil(s.rows / (num(o, 'GROUPS', 1) * num(o, 'ROWS', 4)))),
  },
  // int8 activations (packed dot products): GROUPS row groups of ROWS rows per workgroup (base:
  // GROUPS = WG / TPR threads per row group; sg: a row group is a subgroup)
  gemv_q8: {
    variants: {
      base: { file: 'gemv_q8.wgsl', requires: ['packed_4x8_integer_dot_product'] },
      sg: { file: 'gemv_q8_sg.wgsl', requires: ['packed_4x8_integer_dot_product', 'subgroups'] },
    },
    workgroup: (o) => [num(o, 'WG', 64), 1],
    grid: (s, o) => fold(Math.ceil(s.rows / (num(o, 'GROUPS', num(o, 'WG', 64) / num(o, 'TPR', 16)) * num(o, 'ROWS', 4)))),
  },
  // x -> int8 per block of 32 for gemv_q8: one thread per block
  quant_x: {
    variants: { base: { file: 'quant_x.wgsl', requires: ['packed_4x8_integer_dot_product'] } },
    workgroup: () => [64, 1],
    grid: (s) => fold(Math.ceil(s.blocks / 64)),
  },
  // producers that write gemv_q8's input directly (no separate quant_x dispatch)
  rmsnorm_q8: { variants: { base: { file: 'rmsnorm_q8.wgsl', requires: ['packed_4x8_integer_dot_product'] } }, workgroup: () => [256, 1], grid: () => [1, 1, 1] },
  swiglu_q8: {
    variants: { base: { file: 'swiglu_q8.wgsl', requires: ['packed_4x8_integer_dot_product'] } },
    workgroup: () => [64, 1],
    grid: (s) => fold(Math.ceil(s.blocks / 64)),
  },
  // 2-D output tiles of TILE x TILE (M x N), 16 x 16 threads each computing 4 x 4
  gemm: {
    variants: { base: { file: 'gemm.wgsl', requires: [] }, f16: { file: 'gemm_f16.wgsl', requires: ['shader-f16'] } },
    workgroup: () => [16, 16],
    grid: (s) => [Math.ceil(s.rows / 64), Math.ceil(s.M / 64), 1],
  },
  rmsnorm: { variants: one('rmsnorm.wgsl'), workgroup: () => [256, 1], grid: (s) => fold(s.rows) },
  softmax: { variants: one('softmax.wgsl'), workgroup: () => [256, 1], grid: (s) => fold(s.rows) },
  rope_qkv: { variants: one('rope_qkv.wgsl'), workgroup: () => [64, 1], grid: (s) => fold(Math.ceil((s.tokens * s.heads * s.half) / 64)) },
  rope: { variants: one('rope.wgsl'), workgroup: () => [64, 1], grid: (s) => fold(Math.ceil((s.tokens * s.heads * s.half) / 64)) },
  // elementwise: 256 threads, 4 elements each
  swiglu: { variants: one('swiglu.wgsl'), workgroup: () => [256, 1], grid: (s) => fold(Math.ceil(s.n / 1024)) },
  add: { variants: one('add.wgsl'), workgroup: () => [256, 1], grid: (s) => fold(Math.ceil(s.n / 1024)) },
  embed: { variants: one('embed.wgsl'), workgroup: () => [64, 1], grid: (s) => [Math.ceil(s.chunksPerRow / 64), s.tokens, 1] },
  argmax: { variants: one('argmax.wgsl'), workgroup: () => [256, 1], grid: () => [1, 1, 1] },
  // split-K flash decoding: one workgroup per (split, query head); then one per head to combine
  attn_decode: { variants: one('attn_decode.wgsl'), workgroup: () => [64, 1], grid: (s) => [s.splits, s.heads, 1] },
  attn_combine: { variants: one('attn_combine.wgsl'), workgroup: () => [64, 1], grid: (s) => [s.heads, 1, 1] },
  // the same merge writing gemv_q8's int8 input (o_proj's x)
  attn_combine_q8: {
    variants: { base: { file: 'attn_combine_q8.wgsl', requires: ['packed_4x8_integer_dot_product'] } },
    workgroup: () => [64, 1],
    grid: (s) => [s.heads, 1, 1],
  },
  // causal prefill: one workgroup per (query token, head)
  attn_prefill: { variants: one('attn_prefill.wgsl'), workgroup: () => [64, 1], grid: (s) => [s.tokens, s.heads, 1] },
  // bandwidth reference: WG threads per workgroup, 16 vec4 words per thread
  read: { variants: one('read.wgsl'), workgroup: (o) => [num(o, 'WG', 256), 1], grid: (s, o) => [Math.min(65535, Math.ceil(s.words / (num(o, 'WG', 256) * 16))), 1, 1] },
} satisfies Record<string, KernelSpec>;

export type KernelName = keyof typeof KERNELS;

/** A kernel's workgroup grid for a problem size (the geometry is data in KERNELS). */
export function gridOf(name: KernelName, size: Readonly<Record<string, number>>, o: OverrideValues): [number, number, number] {
  const spec: KernelSpec = KERNELS[name];
  return spec.grid(size, o);
}

function has(gpu: Gpu, f: Feature): boolean {
  if (f === 'packed_4x8_integer_dot_product') return gpu.features.dot4;
  return f === 'shader-f16' ? gpu.features.f16 : gpu.features.subgroups;
}

/** Variants of a kernel this device can run. */
export function variantsFor(gpu: Gpu, name: KernelName): MatVariant[] {
  const spec: KernelSpec = KERNELS[name];
  return (Object.keys(spec.variants) as MatVariant[]).filter((v) => spec.variants[v]?.requires.every((f) => has(gpu, f)));
}

/** The default matrix variant: subgroups when present; f16 decode only when asked (it rounds). */
export function defaultVariant(gpu: Gpu, name: KernelName): MatVariant {
  const vs = variantsFor(gpu, name);
  return vs.includes('sg') ? 'sg' : 'base';
}

export function kernelPipeline(gpu: Gpu, name: KernelName, variant: MatVariant, overrides: OverrideValues): GPUComputePipeline {
  const spec: KernelSpec = KERNELS[name];
  const v = spec.variants[variant];
  if (!v) throw new Error(`kernels-wgsl: ${name} has no ${variant} variant`);
  for (const f of v.requires) if (!has(gpu, f)) throw new Error(`kernels-wgsl: ${name}/${variant} needs ${f}`);
  return pipeline(gpu, v.file, overrides);
}

// ---------------------------------------------------------------- matrices on the GPU

export interface GpuShard {
  readonly rowBase: number;
  readonly rows: number;
  readonly data: GPUBuffer;
  readonly scales: GPUBuffer;
  readonly zeros: GPUBuffer;
}
export interface GpuMatrix {
  readonly meta: Omit<PackedMatrix, 'shards'>;
  readonly shards: readonly GpuShard[];
  destroy(): void;
}

export function uploadMatrix(gpu: Gpu, m: PackedMatrix): GpuMatrix {
  const shards = m.shards.map((s) => ({
    rowBase: s.rowBase,
    rows: s.rows,
    data: storage(gpu, s.data),
    // kernels always bind scales/zeros; float matrices get a 16-byte placeholder
    scales: storage(gpu, s.scales.length ? s.scales : new Uint32Array(4)),
    zeros: storage(gpu, s.zeros ?? new Uint32Array(4)),
  }));
  const { shards: _omit, ...meta } = m;
  return {
    meta,
    shards,
    destroy: () => shards.forEach((s) => [s.data, s.scales, s.zeros].forEach((b) => b.destroy())),
  };
}

export function matOverrides(m: GpuMatrix['meta']): OverrideValues {
  return { KIND: KIND_CODE[m.kind], GROUP: m.kind === 'int4' ? m.groupSize : 32, SCALE_F16: m.scaleF16, HAS_ZEROS: m.hasZeros };
}

export interface GemvOptions {
  readonly variant?: MatVariant;
  readonly wg?: number;
  readonly rows?: number;
  /**
   * Stage x through workgroup memory. Default: on GPUs when it fits the workgroup storage (on the
   * H200 it beat direct loads 460 vs 322 GB/s); off on CPU adapters, where the extra barriers cost
   * more than the strided loads (lavapipe: direct wins).
   */
  readonly stageX?: boolean;
  /** Integer-to-float by the 2^23 mantissa trick (default true; false: plain conversions). */
  readonly magic?: boolean;
  /** rg: chunks per loop trip (2: the next chunk's loads before this one's math; default 1) */
  readonly unroll?: 1 | 2;
}

/** Workgroup bytes the rg variant needs to stage all of x for this matrix (one padding vec4 per chunk). */
export function gemvRgStageBytes(meta: Pick<GpuMatrix['meta'], 'kind' | 'chunksPerRow'>): number {
  return meta.chunksPerRow * (CHUNK_VALUES[meta.kind] / 4 + (meta.kind === 'f32' ? 0 : 1)) * 16;
}

/** Workgroup bytes of the staged-x GEMV: x tile (9 vec4 per thread) + reduction (WG * ROWS f32). */
export function gemvStageBytes(wg: number, rows: number): number {
  return wg * 9 * 16 + wg * rows * 4;
}

/** y[N] = W[N,K] x[K]: one dispatch per row shard. */
export function gemv(gpu: Gpu, m: GpuMatrix, x: GPUBuffer, y: GPUBuffer, opts: GemvOptions = {}): Dispatch[] {
  const variant = opts.variant ?? defaultVariant(gpu, 'gemv');
  const wg = opts.wg ?? 64;
  const rows = opts.rows ?? 4;
  let o: OverrideValues;
  if (variant === 'rg') {
    const bytes = gemvRgStageBytes(m.meta);
    if (bytes > gpu.maxWorkgroupStorage) {
      throw new Error(`kernels-wgsl: gemv variant rg stages all of x: K = ${m.meta.cols} (${m.meta.kind}) needs ${bytes} B of workgroup memory, the device has ${gpu.maxWorkgroupStorage}`);
    }
    if (rows < 1 || rows > 8) throw new Error(`kernels-wgsl: gemv variant rg takes 1..8 rows per row group, not ${rows}`);
    const groups = Math.max(1, Math.floor(wg / Math.max(4, gpu.subgroupMinSize)));
    o = { ...matOverrides(m.meta), WG: wg, ROWS: rows, GROUPS: groups, UNROLL: opts.unroll ?? 1, XS: bytes / 16 };
  } else {
    const stage = opts.stageX ?? (!gpu.cpu && gemvStageBytes(wg, rows) <= gpu.maxWorkgroupStorage);
    o = { ...matOverrides(m.meta), WG: wg, ROWS: rows, STAGE_X: stage, XS: stage ? wg * 9 : 1 };
  }
  // the f16 variants decode in f16 and have no MAGIC override
  if (!variant.includes('f16')) o.MAGIC = opts.magic ?? true;
  const pipe = kernelPipeline(gpu, 'gemv', variant, o);
  return m.shards.map((s) => {
    const grid = gridOf('gemv', { rows: s.rows }, o);
    const params = uniform(gpu, [m.meta.cols, s.rows, s.rowBase, m.meta.chunksPerRow, m.meta.groupsPerRow, grid[0]]);
    return { pipeline: pipe, bindGroup: bindGroup(gpu, pipe, [params, s.data, s.scales, s.zeros, x, y]), grid };
  });
}

/** An activation vector quantized to int8 per block of 32 (quant_x.wgsl's output, gemv_q8's input). */
export interface Q8Vector {
  readonly K: number;
  readonly blocks: number;
  /** 8 u32 per block: 4 int8 each, k order */
  readonly q: GPUBuffer;
  /** vec2<f32> per block: (d, sum of the block's q) */
  readonly d: GPUBuffer;
  destroy(): void;
}

export function q8Vector(gpu: Gpu, K: number): Q8Vector {
  const blocks = Math.ceil(K / 32);
  const q = storage(gpu, blocks * 32);
  const d = storage(gpu, blocks * 8);
  return { K, blocks, q, d, destroy: () => [q, d].forEach((b) => b.destroy()) };
}

/** xq = int8 blocks of x [K] (d = max|x| / 127 per block of 32, round to nearest even). */
export function quantizeX(gpu: Gpu, x: GPUBuffer, v: Q8Vector): Dispatch {
  const pipe = kernelPipeline(gpu, 'quant_x', 'base', {});
  const grid = gridOf('quant_x', { blocks: v.blocks }, {});
  return { pipeline: pipe, bindGroup: bindGroup(gpu, pipe, [uniform(gpu, [v.K, v.blocks, grid[0]]), x, v.q, v.d]), grid };
}

export interface GemvQ8Options {
  /** 'sg': a subgroup per row group, reduced by subgroupAdd (default where subgroups exist) */
  readonly variant?: 'base' | 'sg';
  /** threads per workgroup (default 64 on GPUs, 16 on CPU adapters) */
  readonly wg?: number;
  /** base: threads per row group, dividing wg (default 16 on GPUs, 8 on CPU adapters) */
  readonly tpr?: number;
  /** rows per row group, <= 8 (default 4) */
  readonly rows?: number;
  /** chunks per loop trip: 2 issues the next chunk's loads before this one's math (default 1) */
  readonly unroll?: 1 | 2;
}

/**
 * y[N] = W[N,K] x[K] with x given as int8 blocks (quantizeX): packed 4 x 8-bit dot products, one
 * dispatch per row shard. int4 and int8 weights only.
 */
export function gemvQ8(gpu: Gpu, m: GpuMatrix, x: Q8Vector, y: GPUBuffer, opts: GemvQ8Options = {}): Dispatch[] {
  if (m.meta.kind !== 'int4' && m.meta.kind !== 'int8') throw new Error(`kernels-wgsl: gemvQ8 takes int4 or int8 weights, not ${m.meta.kind}`);
  if (x.K !== m.meta.cols) throw new Error(`kernels-wgsl: gemvQ8 x has K = ${x.K}, the matrix ${m.meta.cols} columns`);
  const variant = opts.variant ?? (gpu.features.subgroups ? 'sg' : 'base');
  const wg = opts.wg ?? (gpu.cpu ? 16 : 64);
  const tpr = opts.tpr ?? Math.min(wg, gpu.cpu ? 8 : 16);
  const rows = opts.rows ?? 4;
  if (wg % tpr !== 0 || rows < 1 || rows > 8) throw new Error(`kernels-wgsl: gemvQ8 geometry wg ${wg} tpr ${tpr} rows ${rows} (tpr must divide wg, rows 1..8)`);
  const geometry: OverrideValues =
    // enough row groups for the most subgroups a workgroup can have (WGSL's smallest size is 4)
    variant === 'sg' ? { GROUPS: Math.max(1, Math.floor(wg / Math.max(4, gpu.subgroupMinSize))) } : { TPR: tpr };
  const o: OverrideValues = { ...matOverrides(m.meta), WG: wg, ROWS: rows, UNROLL: opts.unroll ?? 1, ...geometry };
  const pipe = kernelPipeline(gpu, 'gemv_q8', variant, o);
  return m.shards.map((s) => {
    const grid = gridOf('gemv_q8', { rows: s.rows }, o);
    const params = uniform(gpu, [m.meta.cols, s.rows, s.rowBase, m.meta.chunksPerRow, m.meta.groupsPerRow, grid[0]]);
    return { pipeline: pipe, bindGroup: bindGroup(gpu, pipe, [params, s.data, s.scales, s.zeros, x.q, x.d, y]), grid };
  });
}

/** Y[M, N] = X[M, K] W[N, K]^T (prefill): one dispatch per row shard. */
export function gemm(gpu: Gpu, m: GpuMatrix, x: GPUBuffer, M: number, y: GPUBuffer, opts: { variant?: MatVariant } = {}): Dispatch[] {
  const variant = opts.variant ?? 'base';
  const pipe = kernelPipeline(gpu, 'gemm', variant, matOverrides(m.meta));
  return m.shards.map((s) => {
    const params = uniform(gpu, [M, m.meta.cols, s.rows, s.rowBase, m.meta.chunksPerRow, m.meta.groupsPerRow, m.meta.rows]);
    return { pipeline: pipe, bindGroup: bindGroup(gpu, pipe, [params, s.data, s.scales, s.zeros, x, y]), grid: gridOf('gemm', { rows: s.rows, M }, {}) };
  });
}

/** out[T, D] = rows ids[T] of an embedding table (any weight kind, dequantized). */
export function embed(gpu: Gpu, table: GpuMatrix, ids: GPUBuffer, tokens: number, out: GPUBuffer): Dispatch[] {
  const pipe = kernelPipeline(gpu, 'embed', 'base', matOverrides(table.meta));
  return table.shards.map((s) => {
    const params = uniform(gpu, [table.meta.cols, s.rows, s.rowBase, table.meta.chunksPerRow, table.meta.groupsPerRow]);
    const grid = gridOf('embed', { chunksPerRow: table.meta.chunksPerRow, tokens }, {});
    return { pipeline: pipe, bindGroup: bindGroup(gpu, pipe, [params, s.data, s.scales, s.zeros, ids, out]), grid };
  });
}

function simple(gpu: Gpu, name: KernelName, size: Record<string, number>, words: (gridX: number) => (number | { f: number })[], buffers: GPUBuffer[]): Dispatch {
  const pipe = kernelPipeline(gpu, name, 'base', {});
  const grid = gridOf(name, size, {});
  return { pipeline: pipe, bindGroup: bindGroup(gpu, pipe, [uniform(gpu, words(grid[0])), ...buffers]), grid };
}

export function rmsnorm(gpu: Gpu, x: GPUBuffer, weight: GPUBuffer, y: GPUBuffer, rows: number, n: number, eps: number): Dispatch {
  return simple(gpu, 'rmsnorm', { rows }, (gx) => [n, { f: eps }, gx], [x, weight, y]);
}

/** RMSNorm of one row x [v.K] straight to int8 blocks (= quantizeX of rmsnorm's output). */
export function rmsnormQ8(gpu: Gpu, x: GPUBuffer, weight: GPUBuffer, v: Q8Vector, eps: number): Dispatch {
  return simple(gpu, 'rmsnorm_q8', {}, () => [v.K, { f: eps }, v.blocks], [x, weight, v.q, v.d]);
}

/** silu(gate) * up over v.K values straight to int8 blocks (= quantizeX of swiglu's output). */
export function swigluQ8(gpu: Gpu, gate: GPUBuffer, up: GPUBuffer, v: Q8Vector, offsets: { gate: number; up: number } = { gate: 0, up: 0 }): Dispatch {
  return simple(gpu, 'swiglu_q8', { blocks: v.blocks }, (gx) => [v.K, v.blocks, gx, offsets.gate, offsets.up], [gate, up, v.q, v.d]);
}

export function softmax(gpu: Gpu, x: GPUBuffer, y: GPUBuffer, rows: number, n: number): Dispatch {
  return simple(gpu, 'softmax', { rows }, (gx) => [n, gx], [x, y]);
}

/** x, y [T, H, D]; pos u32 [T]; invFreq [D/2]. */
export function rope(gpu: Gpu, x: GPUBuffer, pos: GPUBuffer, invFreq: GPUBuffer, y: GPUBuffer, tokens: number, heads: number, headDim: number): Dispatch {
  const half = headDim / 2;
  return simple(gpu, 'rope', { tokens, heads, half }, (gx) => [tokens, heads, half, gx], [x, pos, invFreq, y]);
}

export function swiglu(gpu: Gpu, gate: GPUBuffer, up: GPUBuffer, y: GPUBuffer, n: number): Dispatch {
  return swigluRows(gpu, { buffer: gate, stride: n, offset: 0 }, { buffer: up, stride: n, offset: 0 }, y, 1, n);
}

/** A strided view of rows: element (r, c) at buffer[r * stride + offset + c]. */
export interface RowView {
  readonly buffer: GPUBuffer;
  readonly stride: number;
  readonly offset: number;
}

/** y [rows, F] = silu(gate) * up over strided views (a fused gate|up [rows, 2F] is both, offsets 0 and F). */
export function swigluRows(gpu: Gpu, gate: RowView, up: RowView, y: GPUBuffer, rows: number, F: number): Dispatch {
  return simple(gpu, 'swiglu', { n: rows * F }, (gx) => [rows, F, gate.stride, gate.offset, up.stride, up.offset, gx], [gate.buffer, up.buffer, y]);
}

/**
 * RoPE of a fused qkv [T, (Hq + 2 Hkv) D] with host cos/sin tables cs [T, D/2] (vec2): q rotated
 * into q [T, Hq, D], k rotated and v copied into cache rows row0 .. row0 + T - 1 of kc, vc.
 */
export function ropeQkv(gpu: Gpu, s: { Hq: number; Hkv: number; D: number }, T: number, row0: number, qkv: GPUBuffer, cs: GPUBuffer, q: GPUBuffer, kc: GPUBuffer, vc: GPUBuffer): Dispatch {
  const half = s.D / 2;
  return simple(gpu, 'rope_qkv', { tokens: T, heads: s.Hq + s.Hkv, half }, (gx) => [T, s.Hq, s.Hkv, half, row0, gx], [qkv, cs, q, kc, vc]);
}

export function add(gpu: Gpu, a: GPUBuffer, b: GPUBuffer, y: GPUBuffer, n: number): Dispatch {
  return simple(gpu, 'add', { n }, (gx) => [n, gx], [a, b, y]);
}

/** out u32 [1] = argmax of x [n]. */
export function argmax(gpu: Gpu, x: GPUBuffer, out: GPUBuffer, n: number): Dispatch {
  return simple(gpu, 'argmax', {}, () => [n], [x, out]);
}

export interface AttnShape {
  readonly Hq: number;
  readonly Hkv: number;
  readonly D: number;
  readonly scale: number;
}

/** Keys per split: enough splits to fill the device, at least 64 keys each. */
export function decodeSplits(S: number, maxSplits = 32): { splits: number; splitLen: number } {
  const splits = Math.max(1, Math.min(maxSplits, Math.ceil(S / 64)));
  const splitLen = Math.ceil(S / splits);
  return { splits, splitLen };
}

export interface DecodeScratch {
  readonly partO: GPUBuffer; // >= splits * Hq * D f32
  readonly partML: GPUBuffer; // >= splits * Hq * 2 f32
}

/** Scratch for attentionDecode at up to maxSplits splits (reuse it across tokens). */
export function decodeScratch(gpu: Gpu, a: AttnShape, maxSplits = 32): DecodeScratch {
  return { partO: storage(gpu, maxSplits * a.Hq * a.D * 4), partML: storage(gpu, maxSplits * a.Hq * 2 * 4) };
}

/**
 * Decode attention over the first S tokens of the KV caches kc, vc [capacity, Hkv, D] for
 * q [Hq, D]: split-K partials into `scratch`, then a combine into out [Hq, D].
 */
export function attentionDecode(
  gpu: Gpu,
  a: AttnShape,
  S: number,
  q: GPUBuffer,
  kc: GPUBuffer,
  vc: GPUBuffer,
  out: GPUBuffer,
  scratch: DecodeScratch,
  maxSplits = 32,
): Dispatch[] {
  const { partials, splits } = decodePartials(gpu, a, S, q, kc, vc, scratch, maxSplits);
  return [partials, simple(gpu, 'attn_combine', { heads: a.Hq }, () => [a.Hq, a.D, splits], [scratch.partO, scratch.partML, out])];
}

/** Phase 1 of decode attention: the split-K partials into `scratch`. */
function decodePartials(gpu: Gpu, a: AttnShape, S: number, q: GPUBuffer, kc: GPUBuffer, vc: GPUBuffer, scratch: DecodeScratch, maxSplits: number): { partials: Dispatch; splits: number } {
  if (a.D > 256) throw new Error('kernels-wgsl: head dim > 256');
  const { splits, splitLen } = decodeSplits(S, maxSplits);
  if (scratch.partML.size < splits * a.Hq * 2 * 4 || scratch.partO.size < splits * a.Hq * a.D * 4) throw new Error('kernels-wgsl: decode scratch too small');
  const partials = simple(gpu, 'attn_decode', { splits, heads: a.Hq }, () => [S, a.Hq, a.Hkv, a.D, splitLen, { f: a.scale }], [q, kc, vc, scratch.partO, scratch.partML]);
  return { partials, splits };
}

/**
 * attentionDecode with the output written as int8 blocks for gemv_q8 (the o_proj's input): the
 * same values as attentionDecode followed by quantizeX. out.K must be Hq * D, D a multiple of 32.
 */
export function attentionDecodeQ8(
  gpu: Gpu,
  a: AttnShape,
  S: number,
  q: GPUBuffer,
  kc: GPUBuffer,
  vc: GPUBuffer,
  out: Q8Vector,
  scratch: DecodeScratch,
  maxSplits = 32,
): Dispatch[] {
  if (a.D % 32 !== 0) throw new Error(`kernels-wgsl: attentionDecodeQ8 needs a head dim that is a multiple of 32, not ${a.D}`);
  if (out.K !== a.Hq * a.D) throw new Error(`kernels-wgsl: attentionDecodeQ8 output has K = ${out.K}, not Hq * D = ${a.Hq * a.D}`);
  const { partials, splits } = decodePartials(gpu, a, S, q, kc, vc, scratch, maxSplits);
  const combine = simple(gpu, 'attn_combine_q8', { heads: a.Hq }, () => [a.Hq, a.D, splits], [scratch.partO, scratch.partML, out.q, out.d]);
  return [partials, combine];
}

/** Causal prefill attention: q [T, Hq, D] at positions past..past+T-1; k, v [past+T, Hkv, D]. */
export function attentionPrefill(gpu: Gpu, a: AttnShape, T: number, past: number, q: GPUBuffer, k: GPUBuffer, v: GPUBuffer, out: GPUBuffer): Dispatch {
  if (a.D > 256) throw new Error('kernels-wgsl: head dim > 256');
  return simple(gpu, 'attn_prefill', { tokens: T, heads: a.Hq }, () => [T, past, a.Hq, a.Hkv, a.D, { f: a.scale }], [q, k, v, out]);
}

/** Plain streaming read of `words` vec4<u32> of src (bench reference). */
export function readKernel(gpu: Gpu, src: GPUBuffer, words: number, sink: GPUBuffer, wg = 256): Dispatch {
  const o = { WG: wg };
  const pipe = kernelPipeline(gpu, 'read', 'base', o);
  const grid = gridOf('read', { words }, o);
  return { pipeline: pipe, bindGroup: bindGroup(gpu, pipe, [uniform(gpu, [words, grid[0] * wg]), src, sink]), grid };
}

export type { WeightKind };
