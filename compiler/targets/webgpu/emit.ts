// Writes the WebGPU artifact folder: weight shards (<= 32 MiB, sha256 in the manifest), the
// schedule lowered from the IR, the composed WGSL of every kernel variant it may choose, the
// runtime (ES module + .d.ts), the demo page, and the checkpoint's config and tokenizer files.

import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Graph } from '../../ir/graph.js';
import { packageRoot } from '../../package-root.js';
import { LLAMAC_VERSION } from '../../version.js';
import { composeWgsl } from '../../../kernels-wgsl/compose.js';
import { copyTokenizerFiles, describeFile } from '../onnx/artifact.js';
import type { CompileContext } from '../target.js';
import { DEFAULT_LOWER, lowerGraph, type LowerOptions } from './lower.js';
import type { Schedule, Step } from './schedule.js';
import { BINDING_LIMIT, SHARD_BYTES, writeWeights } from './weights.js';

export const MANIFEST_FILE = 'manifest.json';
export const SCHEDULE_FILE = 'schedule.json';
export const RUNTIME_FILE = 'llamac-webgpu.js';
const RUNTIME_FILES = [RUNTIME_FILE, 'llamac-webgpu.d.ts', 'index.html'];

/** The repository root (package.json + kernels-wgsl/wgsl): works from sources and from dist/. */
function repoRoot(): string {
  return packageRoot(['kernels-wgsl/wgsl'], 'webgpu target');
}

export function runtimeDir(): string {
  return join(repoRoot(), 'compiler', 'targets', 'webgpu', 'runtime');
}

function shaderFiles(s: Pick<Schedule, 'programs' | 'argmax'>): string[] {
  const files = new Set<string>();
  const add = (st: Step): void => {
    if ('kernels' in st) for (const k of st.kernels) files.add(k.file);
  };
  for (const steps of Object.values(s.programs)) steps.forEach(add);
  add(s.argmax);
  return [...files].sort();
}

export interface EmitStats {
  readonly weightBytes: number;
  readonly shards: number;
  readonly steps: { readonly prefill: number; readonly decode: number };
}

export interface EmitOptions {
  readonly lower: LowerOptions;
  readonly shardBytes: number;
  readonly bindingLimit: number;
}

export const DEFAULT_EMIT: EmitOptions = { lower: DEFAULT_LOWER, shardBytes: SHARD_BYTES, bindingLimit: BINDING_LIMIT };

export function emitWebGpu(graph: Graph, outDir: string, ctx: CompileContext, o: Partial<EmitOptions> = {}): EmitStats {
  const lowerOpts = o.lower ?? DEFAULT_LOWER;
  const w = writeWeights(graph, ctx.reader, outDir, { floatKind: ctx.quant.name === 'f16' ? 'f16' : 'f32', shardBytes: o.shardBytes ?? SHARD_BYTES, bindingLimit: o.bindingLimit ?? BINDING_LIMIT });
  const lowered = lowerGraph(graph, w.layouts, lowerOpts);
  const schedule: Schedule = {
    format: 'llamac-webgpu-schedule/1',
    model: lowered.model,
    maxTokens: lowerOpts.maxTokens,
    contextLength: Math.min(lowerOpts.contextLength, graph.info.maxPositions),
    buffers: [...w.buffers, ...lowered.buffers],
    shards: w.shards,
    rope: lowered.rope,
    io: lowered.io,
    programs: lowered.programs,
    argmax: lowered.argmax,
    argmaxOut: lowered.argmaxOut,
  };
  writeFileSync(join(outDir, SCHEDULE_FILE), JSON.stringify(schedule) + '\n');
  const wgslDir = resolve(repoRoot(), 'kernels-wgsl', 'wgsl');
  mkdirSync(join(outDir, 'shaders'));
  for (const f of shaderFiles(schedule)) {
    const src = composeWgsl(f, readFileSync(join(wgslDir, f), 'utf8'), (p) => readFileSync(join(wgslDir, 'parts', p), 'utf8'));
    writeFileSync(join(outDir, 'shaders', f), src);
  }
  for (const f of RUNTIME_FILES) copyFileSync(join(runtimeDir(), f), join(outDir, f));
  copyTokenizerFiles(ctx.checkpointDir, outDir);
  const files = [...readdirSync(outDir).filter((f) => f !== 'shaders'), ...readdirSync(join(outDir, 'shaders')).map((f) => `shaders/${f}`)]
    .filter((f) => statSync(join(outDir, f)).isFile())
    .sort()
    .map((f) => describeFile(outDir, f));
  const manifest = {
    format: 'llamac-webgpu/1',
    llamac_version: LLAMAC_VERSION,
    target: 'webgpu',
    model: graph.info.name,
    quant: ctx.quant.name,
    options: ctx.recordedOptions,
    runtime: RUNTIME_FILE,
    weights: { bytes: w.bytes, shards: w.shards.length },
    files,
  };
  writeFileSync(join(outDir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
  return { weightBytes: w.bytes, shards: w.shards.length, steps: { prefill: lowered.programs.prefill.length, decode: lowered.programs.decode.length } };
}
