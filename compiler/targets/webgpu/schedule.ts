// The kernel schedule: what the lowering writes (schedule.json) and the runtime executes. It is
// data, not a model: buffers, the weight stream's layout, and per program (prefill, prefill with
// every token's logits, decode) a list of dispatches and copies whose uniforms and grids may
// depend on a handful of per-call variables. The runtime (runtime/llamac-webgpu.js) knows nothing
// about Llama; everything model-shaped comes from the IR through lower.ts.

/** Per-call variables: T new tokens, past cache rows before them, S = past + T, the decode split. */
export type ScheduleVar = 'T' | 'past' | 'S' | 'splits' | 'splitLen' | 'gx';

/** A u32 word, an f32 word ({f}), or ceil((var * m + a) / d) of a per-call variable. */
export type Num = number | { readonly f: number } | { readonly v: ScheduleVar; readonly m?: number; readonly a?: number; readonly d?: number };

export type Feature = 'shader-f16' | 'subgroups' | 'packed_4x8_integer_dot_product';

/** One way to run a step; the runtime takes the first whose features the device has. */
export interface KernelChoice {
  readonly file: string;
  readonly requires: readonly Feature[];
  /** true: only on software (CPU) adapters; false: only on GPUs; absent: either. */
  readonly cpu?: boolean;
  readonly overrides: Readonly<Record<string, number>>;
}

export interface DispatchStep {
  readonly kernels: readonly KernelChoice[];
  /** binding 0's words */
  readonly uniform: readonly Num[];
  /** bindings 1.. by buffer name */
  readonly buffers: readonly string[];
  /** workgroups; x past 65535 is folded into y (kernels read gridX = the var 'gx') */
  readonly grid: readonly [Num, Num, Num];
  /** what it computes, for reports */
  readonly label: string;
}

export interface CopyStep {
  readonly copy: { readonly src: string; readonly srcOffset: Num; readonly dst: string; readonly dstOffset: Num; readonly bytes: Num };
  readonly label: string;
}

export type Step = DispatchStep | CopyStep;

export interface BufferSpec {
  readonly name: string;
  /** fixed size in bytes (activations: sized for maxTokens) */
  readonly bytes?: number;
  /** KV cache: bytes per cached token; the runtime sizes it for its context length */
  readonly kvRowBytes?: number;
  /** weights: where the bytes start in the weight stream (the shards concatenated) */
  readonly offset?: number;
}

export interface ShardSpec {
  readonly file: string;
  readonly bytes: number;
  readonly sha256: string;
}

/** A RoPE cos/sin table the runtime fills per call from inv_freq (transformers' float32 rounding). */
export interface RopeTable {
  readonly buffer: string;
  readonly invFreq: readonly number[];
}

export interface ScheduleModel {
  readonly name: string;
  readonly vocabSize: number;
  readonly numLayers: number;
  readonly maxPositions: number;
  readonly bosTokenId: number | null;
  readonly eosTokenIds: readonly number[];
}

export interface Schedule {
  readonly format: 'llamac-webgpu-schedule/1';
  readonly model: ScheduleModel;
  /** tokens per prefill dispatch (longer prompts run in chunks) */
  readonly maxTokens: number;
  /** default KV cache rows (load(..., { contextLength }) may choose another) */
  readonly contextLength: number;
  readonly buffers: readonly BufferSpec[];
  readonly shards: readonly ShardSpec[];
  readonly rope: readonly RopeTable[];
  /** token ids in (u32 [maxTokens]) and logits out (f32 [maxTokens, vocab]) */
  readonly io: { readonly ids: string; readonly logits: string };
  readonly programs: { readonly prefill: readonly Step[]; readonly prefillAll: readonly Step[]; readonly decode: readonly Step[] };
  /** the argmax over the logits row (greedy generation reads 4 bytes per token) */
  readonly argmax: DispatchStep;
  readonly argmaxOut: string;
}
