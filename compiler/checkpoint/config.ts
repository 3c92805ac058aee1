// config.json in both forms seen in the wild: the classic Hub form (rope_theta + rope_scaling,
// torch_dtype) and the transformers 5 form (rope_parameters holding theta and scaling, dtype).

import { LlamacError } from '../errors.js';

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
}

type Json = Record<string, unknown>;

export function parseLlamaConfig(raw: unknown, file: string): LlamaConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new LlamacError(`${file}: not a JSON object`);
  const c = raw as Json;
  const bad = (key: string, why: string): never => {
    throw new LlamacError(`${file}: ${key}: ${why}`);
  };
  const int = (key: string, fallback?: number): number => {
    const v = c[key] ?? fallback;
    if (v === undefined) bad(key, 'missing');
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) bad(key, `expected a positive integer, got ${JSON.stringify(v)}`);
    return v as number;
  };
  const num = (obj: Json, key: string, where: string, fallback?: number): number => {
    const v = obj[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) bad(where + key, `expected a number, got ${JSON.stringify(v)}`);
    return v as number;
  };

  const modelType = c['model_type'];
  if (modelType !== 'llama') bad('model_type', `unsupported model_type ${JSON.stringify(modelType)} (llamac compiles 'llama')`);
  const archs = c['architectures'];
  if (archs !== undefined) {
    if (!Array.isArray(archs) || !archs.includes('LlamaForCausalLM')) bad('architectures', `unsupported architecture ${JSON.stringify(archs)} (expected LlamaForCausalLM)`);
  }
  const act = c['hidden_act'] ?? 'silu';
  if (act !== 'silu') bad('hidden_act', `unsupported activation ${JSON.stringify(act)} (expected silu)`);
  if (c['attention_bias'] === true) bad('attention_bias', 'attention biases are not supported');
  if (c['mlp_bias'] === true) bad('mlp_bias', 'MLP biases are not supported');

  const hiddenSize = int('hidden_size');
  const numHeads = int('num_attention_heads');
  const numKvHeads = int('num_key_value_heads', numHeads);
  if (numHeads % numKvHeads !== 0) bad('num_key_value_heads', `${numKvHeads} does not divide num_attention_heads ${numHeads}`);
  const headDim = c['head_dim'] === undefined || c['head_dim'] === null ? hiddenSize / numHeads : int('head_dim');
  if (!Number.isInteger(headDim) || headDim % 2 !== 0) bad('head_dim', `${headDim} must be an even integer`);

  // transformers 5: rope_parameters { rope_theta, rope_type, ...scaling }; classic: rope_theta + rope_scaling.
  const params = c['rope_parameters'];
  let ropeObj: Json | null;
  let ropeTheta: number;
  let where: string;
  if (params !== undefined && params !== null) {
    if (typeof params !== 'object' || Array.isArray(params)) bad('rope_parameters', 'expected an object');
    ropeObj = params as Json;
    ropeTheta = num(ropeObj, 'rope_theta', 'rope_parameters.', 10000);
    where = 'rope_parameters.';
  } else {
    ropeTheta = num(c, 'rope_theta', '', 10000);
    const s = c['rope_scaling'];
    if (s !== undefined && s !== null && (typeof s !== 'object' || Array.isArray(s))) bad('rope_scaling', 'expected an object or null');
    ropeObj = (s as Json | null | undefined) ?? null;
    where = 'rope_scaling.';
  }
  let ropeScaling: RopeScaling = { type: 'default' };
  if (ropeObj) {
    const type = ropeObj['rope_type'] ?? ropeObj['type'] ?? 'default';
    if (type === 'llama3') {
      ropeScaling = {
        type: 'llama3',
        factor: num(ropeObj, 'factor', where),
        lowFreqFactor: num(ropeObj, 'low_freq_factor', where),
        highFreqFactor: num(ropeObj, 'high_freq_factor', where),
        originalMaxPositions: num(ropeObj, 'original_max_position_embeddings', where),
      };
    } else if (type !== 'default') {
      bad(where + 'rope_type', `unsupported RoPE type ${JSON.stringify(type)} (supported: llama3, default)`);
    }
  }

  const eos = c['eos_token_id'];
  const eosTokenIds = eos === undefined || eos === null ? [] : Array.isArray(eos) ? eos.map(Number) : [Number(eos)];
  const bos = c['bos_token_id'];
  const tied = c['tie_word_embeddings'];
  const dtype = c['dtype'] ?? c['torch_dtype'];
  return {
    hiddenSize,
    intermediateSize: int('intermediate_size'),
    numLayers: int('num_hidden_layers'),
    numHeads,
    numKvHeads,
    headDim,
    vocabSize: int('vocab_size'),
    maxPositions: int('max_position_embeddings', 2048),
    rmsNormEps: num(c, 'rms_norm_eps', '', 1e-6),
    ropeTheta,
    ropeScaling,
    // transformers' LlamaConfig defaults tie_word_embeddings to false.
    tiedEmbeddings: tied === true,
    bosTokenId: typeof bos === 'number' ? bos : null,
    eosTokenIds,
    declaredDtype: typeof dtype === 'string' ? dtype : null,
  };
}
