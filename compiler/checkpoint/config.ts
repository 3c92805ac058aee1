// config.json in both forms seen in the wild: the classic Hub form (rope_theta + rope_scaling,
// torch_dtype) and the transformers 5 form (rope_parameters holding theta and scaling, dtype).
//
// Every field llamac reads is validated here against the range that makes a Llama, so a config
// that transformers would reject (or turn into NaNs) is refused with config.json and the field
// named. transformers' defaults (LlamaConfig.__init__ and RotaryEmbeddingConfigMixin) apply to a
// MISSING key only: an explicit null stays null in transformers and fails there, so it is an
// error here too, except where transformers itself maps None to a value (num_key_value_heads,
// head_dim, the bias flags, bos/eos ids).

import { LlamacError } from '../errors.js';
import { describeJson } from '../messages.js';

export type RopeScaling =
  | { readonly type: 'default' }
  | {
      readonly type: 'llama3';
      readonly factor: number;
      readonly lowFreqFactor: number;
      readonly highFreqFactor: number;
      readonly originalMaxPositions: number;
    };

export interface LlamaConfig {
  readonly hiddenSize: number;
  readonly intermediateSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly vocabSize: number;
  readonly maxPositions: number;
  readonly rmsNormEps: number;
  readonly ropeTheta: number;
  readonly ropeScaling: RopeScaling;
  readonly tiedEmbeddings: boolean;
  readonly bosTokenId: number | null;
  readonly eosTokenIds: readonly number[];
  /** dtype the checkpoint declares (torch_dtype or dtype), informational. */
  readonly declaredDtype: string | null;
  /** Size fields config.json leaves out, with the transformers default used (named in shape errors). */
  readonly defaulted: Readonly<Record<string, number>>;
}

type Json = Record<string, unknown>;

/** transformers' LlamaConfig defaults for keys a config.json may leave out. */
export const HF_DEFAULTS = {
  vocab_size: 32000,
  hidden_size: 4096,
  intermediate_size: 11008,
  num_hidden_layers: 32,
  num_attention_heads: 32,
  max_position_embeddings: 2048,
  rms_norm_eps: 1e-6,
  rope_theta: 10000,
  bos_token_id: 1,
  eos_token_id: 2,
} as const;

/**
 * Upper bound for any size or count: typed-array lengths and the ONNX/WGSL index types are 32-bit,
 * and it keeps a hostile value from reaching a loop. Real checks are against the tensors present.
 */
export const MAX_SIZE = 2 ** 31 - 1;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads typed fields of one JSON object, naming `file: prefix+key` in every error. */
class Fields {
  constructor(
    readonly obj: Json,
    readonly file: string,
    readonly prefix = '',
  ) {}

  has(key: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.obj, key);
  }

  get(key: string): unknown {
    return this.has(key) ? this.obj[key] : undefined;
  }

  bad(key: string, why: string): never {
    throw new LlamacError(`${this.file}: ${this.prefix}${key}: ${why}`);
  }

  /** A positive integer up to MAX_SIZE; `fallback` only when the key is absent. */
  positiveInt(key: string, fallback?: number): number {
    if (!this.has(key)) {
      if (fallback === undefined) this.bad(key, 'missing');
      return fallback;
    }
    const v = this.obj[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) this.bad(key, `expected a positive integer, got ${describeJson(v)}`);
    if (v > MAX_SIZE) this.bad(key, `${describeJson(v)} is larger than ${MAX_SIZE}`);
    return v;
  }

  /** A finite number > 0; `fallback` only when the key is absent. */
  positive(key: string, fallback?: number): number {
    if (!this.has(key)) {
      if (fallback === undefined) this.bad(key, 'missing');
      return fallback;
    }
    const v = this.obj[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) this.bad(key, `expected a positive number, got ${describeJson(v)}`);
    return v;
  }

  /** true/false; absent or null is false (transformers passes None on, where it reads as false). */
  flag(key: string): boolean {
    const v = this.get(key);
    if (v === undefined || v === null) return false;
    if (typeof v !== 'boolean') this.bad(key, `expected true or false, got ${describeJson(v)}`);
    return v;
  }

  /** A token id (or null); absent gives `fallback`. */
  tokenIds(key: string, fallback: number, vocab: number): number[] {
    // A defaulted id outside a small vocabulary is transformers' default, not the user's mistake.
    if (!this.has(key)) return fallback < vocab ? [fallback] : [];
    const v = this.obj[key];
    if (v === null) return [];
    const ids = Array.isArray(v) ? v : [v];
    for (const id of ids) {
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) this.bad(key, `expected a token id or a list of them, got ${describeJson(v)}`);
      if (id >= vocab) this.bad(key, `token id ${id} is outside the vocabulary (vocab_size ${vocab})`);
    }
    return ids as number[];
  }
}

/** The RoPE settings, from rope_parameters (transformers 5) or rope_theta + rope_scaling (classic). */
function parseRope(c: Fields, maxPositions: number): { theta: number; scaling: RopeScaling } {
  const params = c.get('rope_parameters');
  const legacy = c.get('rope_scaling');
  if (params !== undefined && params !== null && legacy !== undefined && legacy !== null) {
    c.bad('rope_scaling', 'given together with rope_parameters (transformers versions disagree on which wins); keep one');
  }
  let rope: Fields | null;
  if (params !== undefined && params !== null) {
    if (!isObject(params)) c.bad('rope_parameters', `expected an object, got ${describeJson(params)}`);
    // transformers 5: a missing rope_type is 'default' (or the old 'type' key).
    rope = new Fields(params, c.file, 'rope_parameters.');
  } else if (legacy !== undefined && legacy !== null) {
    if (!isObject(legacy)) c.bad('rope_scaling', `expected an object or null, got ${describeJson(legacy)}`);
    // transformers 4 fails on a rope_scaling without a type and 5 reads it as no scaling:
    // ambiguous, so refused (null means no scaling).
    if (!('rope_type' in legacy) && !('type' in legacy)) c.bad('rope_scaling', 'has no rope_type (use null for no scaling)');
    rope = new Fields(legacy, c.file, 'rope_scaling.');
  } else {
    rope = null;
  }

  // theta: rope_parameters.rope_theta, else the top-level rope_theta, else 10000 (setdefault in
  // transformers 5, so an explicit null is kept and fails).
  const topTheta = c.has('rope_theta') ? c.positive('rope_theta') : HF_DEFAULTS.rope_theta;
  const theta = rope?.has('rope_theta') ? rope.positive('rope_theta') : topTheta;
  if (rope === null) return { theta, scaling: { type: 'default' } };

  const typeKey = rope.has('rope_type') ? 'rope_type' : rope.has('type') ? 'type' : null;
  const type = typeKey === null ? 'default' : rope.obj[typeKey];
  if (typeKey !== null && typeof type !== 'string') rope.bad(typeKey, `expected a RoPE type name, got ${describeJson(type)}`);
  if (type === 'default') return { theta, scaling: { type: 'default' } };
  if (type !== 'llama3') rope.bad(typeKey ?? 'rope_type', `unsupported RoPE type ${describeJson(type)} (supported: llama3, default)`);
  const factor = rope.positive('factor');
  const lowFreqFactor = rope.positive('low_freq_factor');
  const highFreqFactor = rope.positive('high_freq_factor');
  // Equal factors divide by zero in the smoothing between the two wavelengths.
  if (!(highFreqFactor > lowFreqFactor)) rope.bad('high_freq_factor', `${highFreqFactor} must be greater than low_freq_factor ${lowFreqFactor}`);
  // transformers 5 defaults it to max_position_embeddings.
  const originalMaxPositions = rope.positiveInt('original_max_position_embeddings', maxPositions);
  return { theta, scaling: { type: 'llama3', factor, lowFreqFactor, highFreqFactor, originalMaxPositions } };
}

export function parseLlamaConfig(raw: unknown, file: string): LlamaConfig {
  if (!isObject(raw)) throw new LlamacError(`${file}: not a JSON object`);
  const c = new Fields(raw, file);

  const modelType = c.get('model_type');
  if (modelType !== 'llama') c.bad('model_type', `unsupported model_type ${describeJson(modelType)} (llamac compiles 'llama')`);
  const archs = c.get('architectures');
  if (archs !== undefined && archs !== null) {
    if (!Array.isArray(archs) || !archs.includes('LlamaForCausalLM')) c.bad('architectures', `unsupported architecture ${describeJson(archs)} (expected LlamaForCausalLM)`);
  }
  const act = c.has('hidden_act') ? c.get('hidden_act') : 'silu';
  if (act !== 'silu') c.bad('hidden_act', `unsupported activation ${describeJson(act)} (expected silu)`);
  if (c.flag('attention_bias')) c.bad('attention_bias', 'attention biases are not supported');
  if (c.flag('mlp_bias')) c.bad('mlp_bias', 'MLP biases are not supported');
  const prf = c.get('partial_rotary_factor');
  if (prf !== undefined && prf !== null && prf !== 1) c.bad('partial_rotary_factor', `only 1 (RoPE on the whole head) is supported, got ${describeJson(prf)}`);

  const defaulted: Record<string, number> = {};
  const size = (key: keyof typeof HF_DEFAULTS): number => {
    if (!c.has(key)) defaulted[key] = HF_DEFAULTS[key];
    return c.positiveInt(key, HF_DEFAULTS[key]);
  };
  const hiddenSize = size('hidden_size');
  const intermediateSize = size('intermediate_size');
  const numLayers = size('num_hidden_layers');
  const numHeads = size('num_attention_heads');
  const vocabSize = size('vocab_size');
  const maxPositions = size('max_position_embeddings');
  // transformers: None (or absent) means one KV head per query head, and hidden_size // heads.
  const numKvHeads = c.get('num_key_value_heads') == null ? numHeads : c.positiveInt('num_key_value_heads');
  if (numHeads % numKvHeads !== 0) c.bad('num_key_value_heads', `${numKvHeads} does not divide num_attention_heads ${numHeads}`);
  const headDim = c.get('head_dim') == null ? Math.floor(hiddenSize / numHeads) : c.positiveInt('head_dim');
  if (headDim === 0 || headDim % 2 !== 0) c.bad('head_dim', `${headDim} must be a positive even integer (RoPE rotates pairs)`);
  if (numHeads * headDim > MAX_SIZE) c.bad('num_attention_heads', `${numHeads} heads of ${headDim} is larger than ${MAX_SIZE}`);

  const rmsNormEps = c.positive('rms_norm_eps', HF_DEFAULTS.rms_norm_eps);
  // The norms compute in float32: an epsilon that rounds to 0 there divides zero rows by zero.
  if (Math.fround(rmsNormEps) === 0) c.bad('rms_norm_eps', `${rmsNormEps} rounds to 0 in float32`);
  if (!Number.isFinite(Math.fround(rmsNormEps))) c.bad('rms_norm_eps', `${rmsNormEps} does not fit in float32`);
  const rope = parseRope(c, maxPositions);

  const dtype = c.get('dtype') ?? c.get('torch_dtype');
  const bos = c.tokenIds('bos_token_id', HF_DEFAULTS.bos_token_id, vocabSize);
  if (bos.length > 1) c.bad('bos_token_id', `expected one token id, got ${describeJson(c.get('bos_token_id'))}`);
  return {
    hiddenSize,
    intermediateSize,
    numLayers,
    numHeads,
    numKvHeads,
    headDim,
    vocabSize,
    maxPositions,
    rmsNormEps,
    ropeTheta: rope.theta,
    ropeScaling: rope.scaling,
    // transformers' LlamaConfig defaults tie_word_embeddings to false.
    tiedEmbeddings: c.flag('tie_word_embeddings'),
    bosTokenId: bos.length === 1 ? bos[0] : null,
    eosTokenIds: c.tokenIds('eos_token_id', HF_DEFAULTS.eos_token_id, vocabSize),
    declaredDtype: typeof dtype === 'string' ? dtype : null,
    defaulted,
  };
}

/**
 * The RoPE inverse frequencies (computed in float32 as transformers does) must be positive and
 * finite, and so must the largest angle, at max_position_embeddings: a theta of 1e-50 or a
 * factor that rounds to 0 in float32 passes every range check above and still gives NaN.
 */
export function checkRopeFrequencies(invFreq: Float32Array, c: LlamaConfig, file: string): void {
  const what = `rope_theta ${c.ropeTheta}${c.ropeScaling.type === 'llama3' ? ` with llama3 scaling (factor ${c.ropeScaling.factor}, low_freq_factor ${c.ropeScaling.lowFreqFactor}, high_freq_factor ${c.ropeScaling.highFreqFactor})` : ''}`;
  let max = 0;
  for (let i = 0; i < invFreq.length; i++) {
    const x = invFreq[i];
    if (!(x > 0) || !Number.isFinite(x)) throw new LlamacError(`${file}: ${what} gives RoPE inverse frequency ${x} at index ${i} in float32 (expected positive and finite)`);
    max = Math.max(max, x);
  }
  if (!Number.isFinite(Math.fround(Math.fround(c.maxPositions) * max))) {
    throw new LlamacError(`${file}: ${what} gives a RoPE angle beyond float32 at max_position_embeddings ${c.maxPositions}`);
  }
}
