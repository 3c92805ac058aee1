// Kernel table (files, required features, workgroup sizes, dispatch geometry as data) and the
// typed host entry points that turn tensors into dispatches.
import { bindGroup, fold, pipeline, storage, uniform, type Dispatch, type Gpu, type OverrideValues } from './gpu.js';
import { KIND_CODE, type PackedMatrix, type WeightKind } from './pack.js';

export type Feature = 'shader-f16' | 'subgroups';
export type MatVariant = 'base' | 'sg' | 'f16' | 'sg_f16';

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
    },
    workgroup: (o) => [num(o, 'WG', 64), 1],
    grid: (s, o) => fold(Math.ceil(s.rows / num(o, 'ROWS', 4))),
  },
  // 2-D output tiles of TILE x TILE (M x N), 16 x 16 threads each computing 4 x 4
  gemm: {
    variants: { base: { file: 'gemm.wgsl', requires: [] }, f16: { file: 'gemm_f16.wgsl', requires: ['shader-f16'] } },
    workgroup: () => [16, 16],
    grid: (s) => [Math.ceil(s.rows / 64), Math.ceil(s.M / 64), 1],
  },
  rmsnorm: { variants: one('rmsnorm.wgsl'), workgroup: () => [256, 1], grid: (s) => fold(s.rows) },
  softmax: { variants: one('softmax.wgsl'), workgroup: () => [256, 1], grid: (s) => fold(s.rows) },
  rope: { variants: one('rope.wgsl'), workgroup: () => [64, 1], grid: (s) => fold(Math.ceil((s.tokens * s.heads * s.half) / 64)) },
  // elementwise: 256 threads, 4 elements each
  swiglu: { variants: one('swiglu.wgsl'), workgroup: () => [256, 1], grid: (s) => fold(Math.ceil(s.n / 1024)) },
  add: { variants: one('add.wgsl'), workgroup: () => [256, 1], grid: (s) => fold(Math.ceil(s.n / 1024)) },
  embed: { variants: one('embed.wgsl'), workgroup: () => [64, 1], grid: (s) => [Math.ceil(s.chunksPerRow / 64), s.tokens, 1] },
  argmax: { variants: one('argmax.wgsl'), workgroup: () => [256, 1], grid: () => [1, 1, 1] },
  // split-K flash decoding: one workgroup per (split, query head); then one per head to combine
  attn_decode: { variants: one('attn_decode.wgsl'), workgroup: () => [64, 1], grid: (s) => [s.splits, s.heads, 1] },
  attn_combine: { variants: one('attn_combine.wgsl'), workgroup: () => [64, 1], grid: (s) => [s.heads, 1, 1] },
  // causal prefill: one workgroup per (query token, head)
  attn_prefill: { variants: one('attn_prefill.wgsl'), workgroup: () => [64, 1], grid: (s) => [s.tokens, s.heads, 1] },
} satisfies Record<string, KernelSpec>;

export type KernelName = keyof typeof KERNELS;

function has(gpu: Gpu, f: Feature): boolean {
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

function matOverrides(m: GpuMatrix['meta']): OverrideValues {
  return { KIND: KIND_CODE[m.kind], GROUP: m.kind === 'int4' ? m.groupSize : 32, SCALE_F16: m.scaleF16, HAS_ZEROS: m.hasZeros };
}

export interface GemvOptions {
  readonly variant?: MatVariant;
  readonly wg?: number;
  readonly rows?: number;
}

/** y[N] = W[N,K] x[K]: one dispatch per row shard. */
export function gemv(gpu: Gpu, m: GpuMatrix, x: GPUBuffer, y: GPUBuffer, opts: GemvOptions = {}): Dispatch[] {
  const variant = opts.variant ?? defaultVariant(gpu, 'gemv');
  const o: OverrideValues = { ...matOverrides(m.meta), WG: opts.wg ?? 64, ROWS: opts.rows ?? 4 };
  const pipe = kernelPipeline(gpu, 'gemv', variant, o);
  return m.shards.map((s) => {
    const grid = KERNELS.gemv.grid({ rows: s.rows }, o);
    const params = uniform(gpu, [m.meta.cols, s.rows, s.rowBase, m.meta.chunksPerRow, m.meta.groupsPerRow, grid[0]]);
    return { pipeline: pipe, bindGroup: bindGroup(gpu, pipe, [params, s.data, s.scales, s.zeros, x, y]), grid };
  });
}

export type { WeightKind };
