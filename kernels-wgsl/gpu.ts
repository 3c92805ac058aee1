// Host layer: device acquisition, WGSL lookup, cached pipelines, buffers and read-back.
// Everything kernel-specific (bindings, overrides, dispatch geometry) lives in kernels.ts as data.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { create, globals } from 'webgpu';
import { packageRoot } from '../compiler/package-root.js';
import { composeWgsl } from './compose.js';

let globalsInstalled = false;
function installGlobals(): void {
  // Dawn's GPUBufferUsage / GPUMapMode / ... constants live on `globals`.
  if (!globalsInstalled) Object.assign(globalThis, globals);
  globalsInstalled = true;
}

/** The repository root: walk up from this file to package.json (works from src and from dist/). */
export function repoRoot(): string {
  return packageRoot(['kernels-wgsl/wgsl'], 'kernels-wgsl');
}

const sourceCache = new Map<string, string>();
/** A kernel file's WGSL with its shared pieces spliced in (compose.ts). */
export function wgslSource(file: string): string {
  let src = sourceCache.get(file);
  if (src === undefined) {
    const dir = resolve(repoRoot(), 'kernels-wgsl', 'wgsl');
    src = composeWgsl(file, readFileSync(resolve(dir, file), 'utf8'), (piece) => readFileSync(resolve(dir, 'parts', piece), 'utf8'));
    sourceCache.set(file, src);
  }
  return src;
}

export interface GpuFeatures {
  readonly f16: boolean;
  readonly subgroups: boolean;
  readonly timestamp: boolean;
  /** WGSL language feature packed_4x8_integer_dot_product (dot4I8Packed, pack4xI8). */
  readonly dot4: boolean;
}

export interface Gpu {
  readonly device: GPUDevice;
  /** The navigator.gpu-like object: holding it keeps Dawn's event polling (and promises) alive. */
  readonly instance: GPU;
  readonly adapterName: string;
  readonly features: GpuFeatures;
  readonly maxBindingBytes: number;
  readonly maxWorkgroupStorage: number;
  readonly subgroupMinSize: number;
  /** A software (CPU) adapter such as lavapipe: kernels pick CPU-friendly defaults. */
  readonly cpu: boolean;
  /** true for backend=null: compiles and validates, never executes. */
  readonly nullBackend: boolean;
  destroy(): void;
}

export interface OpenOptions {
  readonly backend?: 'default' | 'null';
  /** Drop optional features to exercise the fallbacks on an adapter that has them. */
  readonly disable?: readonly ('shader-f16' | 'subgroups')[];
  /** Dawn instance toggles, e.g. 'disable-dawn-features=timestamp_quantization' for benchmarks. */
  readonly dawnOptions?: readonly string[];
}

/** Opens a device with every feature this library can use. Returns null when no adapter exists. */
export async function openGpu(opts: OpenOptions = {}): Promise<Gpu | null> {
  installGlobals();
  const gpuObj = create([...(opts.backend === 'null' ? ['backend=null'] : []), ...(opts.dawnOptions ?? [])]);
  const adapter = await gpuObj.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return null;
  const want: GPUFeatureName[] = [];
  const off = new Set(opts.disable ?? []);
  for (const f of ['shader-f16', 'subgroups', 'timestamp-query'] as const) {
    if (adapter.features.has(f) && !off.has(f as 'shader-f16' | 'subgroups')) want.push(f);
  }
  const L = adapter.limits;
  const device = await adapter.requestDevice({
    requiredFeatures: want,
    requiredLimits: {
      maxStorageBufferBindingSize: L.maxStorageBufferBindingSize,
      maxBufferSize: L.maxBufferSize,
      maxComputeWorkgroupStorageSize: L.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: L.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: L.maxComputeWorkgroupSizeX,
      maxStorageBuffersPerShaderStage: L.maxStorageBuffersPerShaderStage,
    },
  });
  const info = adapter.info;
  const name = [info.vendor, info.architecture, info.device, info.description].filter((s) => s).join(' ');
  return {
    device,
    instance: gpuObj,
    adapterName: name || 'unknown',
    features: {
      f16: want.includes('shader-f16'),
      subgroups: want.includes('subgroups'),
      timestamp: want.includes('timestamp-query'),
      dot4: gpuObj.wgslLanguageFeatures.has('packed_4x8_integer_dot_product'),
    },
    maxBindingBytes: device.limits.maxStorageBufferBindingSize,
    maxWorkgroupStorage: device.limits.maxComputeWorkgroupStorageSize,
    subgroupMinSize: info.subgroupMinSize ?? 0,
    cpu: /llvmpipe|lavapipe|swiftshader/i.test(name),
    nullBackend: opts.backend === 'null',
    destroy: () => device.destroy(),
  };
}

export type OverrideValues = Record<string, number | boolean>;

const pipelineCaches = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

/** Pipeline creation cached per device by (file, entry, overrides). */
export function pipeline(gpu: Gpu, file: string, overrides: OverrideValues, entryPoint = 'main'): GPUComputePipeline {
  let cache = pipelineCaches.get(gpu.device);
  if (!cache) pipelineCaches.set(gpu.device, (cache = new Map()));
  const keys = Object.keys(overrides).sort();
  const key = `${file}#${entryPoint}#${keys.map((k) => `${k}=${String(overrides[k])}`).join(',')}`;
  let p = cache.get(key);
  if (!p) {
    const module = gpu.device.createShaderModule({ code: wgslSource(file), label: file });
    const constants: Record<string, number> = {};
    for (const k of keys) {
      const v = overrides[k];
      constants[k] = typeof v === 'boolean' ? (v ? 1 : 0) : v;
    }
    p = gpu.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint, constants }, label: key });
    cache.set(key, p);
  }
  return p;
}

/** Compile a module and return its error messages (empty when valid). */
export async function compileErrors(gpu: Gpu, file: string): Promise<string[]> {
  const module = gpu.device.createShaderModule({ code: wgslSource(file), label: file });
  const info = await module.getCompilationInfo();
  return info.messages.filter((m) => m.type === 'error').map((m) => `${file}:${m.lineNum}:${m.linePos} ${m.message}`);
}

/** Creates a pipeline inside an error scope; returns validation errors (for backend=null checks). */
export async function pipelineErrors(gpu: Gpu, file: string, overrides: OverrideValues): Promise<string[]> {
  gpu.device.pushErrorScope('validation');
  pipeline(gpu, file, overrides);
  const err = await gpu.device.popErrorScope();
  return err ? [err.message] : [];
}

const STORAGE = 0x80; // GPUBufferUsage.STORAGE
const COPY_SRC = 0x04;
const COPY_DST = 0x08;
const UNIFORM = 0x40;
const MAP_READ = 0x01;

type Typed = Float32Array | Uint32Array | Int32Array | Uint8Array | Uint16Array;

/** A storage buffer holding `data` (size rounded up to 16 bytes; the tail is zero). */
export function storage(gpu: Gpu, data: Typed | number, label?: string): GPUBuffer {
  const bytes = typeof data === 'number' ? data : data.byteLength;
  const size = Math.max(16, Math.ceil(bytes / 16) * 16);
  const buf = gpu.device.createBuffer({ size, usage: STORAGE | COPY_SRC | COPY_DST, label, mappedAtCreation: typeof data !== 'number' });
  if (typeof data !== 'number') {
    new Uint8Array(buf.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    buf.unmap();
  }
  return buf;
}

/** A uniform buffer of u32/f32 words (each entry: integer -> u32, {f: x} -> f32). */
export function uniform(gpu: Gpu, words: readonly (number | { f: number })[]): GPUBuffer {
  const n = Math.max(4, Math.ceil(words.length / 4) * 4);
  const u = new Uint32Array(n);
  const f = new Float32Array(u.buffer);
  words.forEach((w, i) => {
    if (typeof w === 'number') u[i] = w >>> 0;
    else f[i] = w.f;
  });
  const buf = gpu.device.createBuffer({ size: n * 4, usage: UNIFORM | COPY_DST, mappedAtCreation: true });
  new Uint32Array(buf.getMappedRange()).set(u);
  buf.unmap();
  return buf;
}

export function bindGroup(gpu: Gpu, pipe: GPUComputePipeline, buffers: readonly GPUBuffer[]): GPUBindGroup {
  return gpu.device.createBindGroup({
    layout: pipe.getBindGroupLayout(0),
    entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
}

export interface Dispatch {
  readonly pipeline: GPUComputePipeline;
  readonly bindGroup: GPUBindGroup;
  readonly grid: readonly [number, number, number];
}

export function encode(pass: GPUComputePassEncoder, d: Dispatch): void {
  pass.setPipeline(d.pipeline);
  pass.setBindGroup(0, d.bindGroup);
  pass.dispatchWorkgroups(d.grid[0], d.grid[1], d.grid[2]);
}

/** A buffer-to-buffer copy between dispatches (e.g. a token's k/v appended to the KV cache). */
export interface BufferCopy {
  readonly copy: { readonly src: GPUBuffer; readonly dst: GPUBuffer; readonly dstOffset: number; readonly bytes: number };
}

/**
 * Runs dispatches in order in one submission and waits for them: one compute pass, split where a
 * copy sits between dispatches (copies are encoded outside passes).
 */
export async function run(gpu: Gpu, steps: readonly (Dispatch | BufferCopy)[]): Promise<void> {
  const enc = gpu.device.createCommandEncoder();
  let pass: GPUComputePassEncoder | null = null;
  for (const st of steps) {
    if ('copy' in st) {
      pass?.end();
      pass = null;
      enc.copyBufferToBuffer(st.copy.src, 0, st.copy.dst, st.copy.dstOffset, st.copy.bytes);
    } else {
      pass ??= enc.beginComputePass();
      encode(pass, st);
    }
  }
  pass?.end();
  gpu.device.queue.submit([enc.finish()]);
  await gpu.device.queue.onSubmittedWorkDone();
}

export async function readBytes(gpu: Gpu, buf: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
  const size = Math.ceil(bytes / 4) * 4;
  const staging = gpu.device.createBuffer({ size, usage: MAP_READ | COPY_DST });
  const enc = gpu.device.createCommandEncoder();
  enc.copyBufferToBuffer(buf, 0, staging, 0, size);
  gpu.device.queue.submit([enc.finish()]);
  await staging.mapAsync(0x01);
  const out = staging.getMappedRange().slice(0, bytes);
  staging.unmap();
  staging.destroy();
  return out;
}

export async function readF32(gpu: Gpu, buf: GPUBuffer, n: number): Promise<Float32Array> {
  return new Float32Array(await readBytes(gpu, buf, n * 4));
}
export async function readU32(gpu: Gpu, buf: GPUBuffer, n: number): Promise<Uint32Array> {
  return new Uint32Array(await readBytes(gpu, buf, n * 4));
}

/** Fold a 1-D workgroup count into x*y within the 65535 per-dimension limit. */
export function fold(count: number): [number, number, number] {
  if (count <= 65535) return [Math.max(1, count), 1, 1];
  const y = Math.ceil(count / 65535);
  return [Math.ceil(count / y), y, 1];
}
