// Types of the llamac WebGPU runtime (llamac-webgpu.js), shipped beside it in every artifact.
// The schedule types mirror compiler/targets/webgpu/schedule.ts, which writes schedule.json.

export type ScheduleVar = 'T' | 'past' | 'S' | 'splits' | 'splitLen' | 'gx';
export type Num = number | { readonly f: number } | { readonly v: ScheduleVar; readonly m?: number; readonly a?: number; readonly d?: number };
export interface KernelChoice {
  readonly file: string;
  readonly requires: readonly string[];
  readonly cpu?: boolean;
  readonly overrides: Readonly<Record<string, number>>;
}
export interface DispatchStep {
  readonly kernels: readonly KernelChoice[];
  readonly uniform: readonly Num[];
  readonly buffers: readonly string[];
  readonly grid: readonly [Num, Num, Num];
  readonly label: string;
}
export interface CopyStep {
  readonly copy: { readonly src: string; readonly srcOffset: Num; readonly dst: string; readonly dstOffset: Num; readonly bytes: Num };
  readonly label: string;
}
export type Step = DispatchStep | CopyStep;
export interface Schedule {
  readonly format: 'llamac-webgpu-schedule/1';
  readonly model: { readonly name: string; readonly vocabSize: number; readonly numLayers: number; readonly maxPositions: number; readonly bosTokenId: number | null; readonly eosTokenIds: readonly number[] };
  readonly maxTokens: number;
  readonly contextLength: number;
  readonly buffers: readonly { readonly name: string; readonly bytes?: number; readonly kvRowBytes?: number; readonly offset?: number }[];
  readonly shards: readonly { readonly file: string; readonly bytes: number; readonly sha256: string }[];
  readonly rope: readonly { readonly buffer: string; readonly invFreq: readonly number[] }[];
  readonly io: { readonly ids: string; readonly logits: string };
  readonly programs: { readonly prefill: readonly Step[]; readonly prefillAll: readonly Step[]; readonly decode: readonly Step[] };
  readonly argmax: DispatchStep;
  readonly argmaxOut: string;
}

export interface Progress {
  /** weight bytes loaded and checked so far, of total */
  readonly loaded: number;
  readonly total: number;
  /** the shard just loaded */
  readonly file: string;
}

export interface LoadOptions {
  /** a device to use (Node: from the `webgpu` package); default: navigator.gpu, else `webgpu` in Node */
  readonly device?: GPUDevice;
  /** the device's adapter info (picks CPU-adapter kernel geometry); default: device.adapterInfo */
  readonly adapterInfo?: GPUAdapterInfo;
  /** WGSL language features (default: navigator.gpu.wgslLanguageFeatures) */
  readonly wgslLanguageFeatures?: ReadonlySet<string>;
  readonly onProgress?: (p: Progress) => void;
  /** KV cache rows (default: the artifact's contextLength) */
  readonly contextLength?: number;
}

export interface GenerateOptions {
  readonly maxNewTokens?: number;
  /** called with each new token as soon as it is known */
  readonly onToken?: (token: number, index: number) => void;
  readonly signal?: AbortSignal;
  /** stop after any of these tokens (default: the model's eos tokens; [] never stops early) */
  readonly stopTokens?: readonly number[];
  /** position of the prompt's first token (default: the current position) */
  readonly startPos?: number;
}

export interface Model {
  readonly schedule: Schedule;
  readonly manifest: unknown;
  readonly contextLength: number;
  readonly adapter: { readonly description: string; readonly cpu: boolean; readonly features: readonly string[] };
  /** the WGSL files the chosen variants use */
  kernels(): string[];
  /** position of the next token; cache rows in use */
  readonly position: number;
  readonly length: number;
  /** empty the KV cache */
  reset(): void;
  /** run tokens at positions startPos.. appending to the cache; with allLogits, every token's logits [T * vocab] */
  prefill(ids: ArrayLike<number>, startPos?: number): Promise<undefined>;
  prefill(ids: ArrayLike<number>, startPos: number | undefined, opts: { allLogits: true }): Promise<Float32Array>;
  prefill(ids: ArrayLike<number>, startPos?: number, opts?: { allLogits?: boolean }): Promise<Float32Array | undefined>;
  /** run one token at the current position */
  decode(id: number): Promise<void>;
  /** logits [vocab] of the last token run */
  logits(): Promise<Float32Array>;
  /** greedy generation; returns the new tokens */
  generate(prompt: ArrayLike<number>, opts?: GenerateOptions): Promise<number[]>;
  dispose(): void;
}

export class LlamacWebGpuError extends Error {}
export function load(baseUrlOrDir: string, opts?: LoadOptions): Promise<Model>;
