// The Hugging Face tensor-name table for Llama, as data. Every checkpoint tensor must be claimed
// by a row here (or listed as deliberately unused); an unclaimed tensor is an error, not silence.

import type { LlamaConfig } from './config.js';

export interface ExpectedTensor {
  readonly name: string;
  readonly shape: readonly number[];
}

/** Per-layer tensors: name suffix and shape from the config. */
const LAYER_TENSORS: ReadonlyArray<readonly [string, (c: LlamaConfig) => number[]]> = [
  ['input_layernorm.weight', (c) => [c.hiddenSize]],
  ['self_attn.q_proj.weight', (c) => [c.numHeads * c.headDim, c.hiddenSize]],
  ['self_attn.k_proj.weight', (c) => [c.numKvHeads * c.headDim, c.hiddenSize]],
  ['self_attn.v_proj.weight', (c) => [c.numKvHeads * c.headDim, c.hiddenSize]],
  ['self_attn.o_proj.weight', (c) => [c.hiddenSize, c.numHeads * c.headDim]],
  ['post_attention_layernorm.weight', (c) => [c.hiddenSize]],
  ['mlp.gate_proj.weight', (c) => [c.intermediateSize, c.hiddenSize]],
  ['mlp.up_proj.weight', (c) => [c.intermediateSize, c.hiddenSize]],
  ['mlp.down_proj.weight', (c) => [c.hiddenSize, c.intermediateSize]],
];

/** Tensors some exporters write that the model does not use (recomputed or tied). */
export const DELIBERATELY_UNUSED: readonly RegExp[] = [/^model\.layers\.\d+\.self_attn\.rotary_emb\.inv_freq$/];

export function layerTensorName(layer: number, suffix: string): string {
  return `model.layers.${layer}.${suffix}`;
}

export function expectedLlamaTensors(c: LlamaConfig): ExpectedTensor[] {
  const out: ExpectedTensor[] = [{ name: 'model.embed_tokens.weight', shape: [c.vocabSize, c.hiddenSize] }];
  for (let i = 0; i < c.numLayers; i++) {
    for (const [suffix, shape] of LAYER_TENSORS) out.push({ name: layerTensorName(i, suffix), shape: shape(c) });
  }
  out.push({ name: 'model.norm.weight', shape: [c.hiddenSize] });
  if (!c.tiedEmbeddings) out.push({ name: 'lm_head.weight', shape: [c.vocabSize, c.hiddenSize] });
  return out;
}

/** A tied checkpoint may still carry a copy of lm_head.weight; it is not read. */
export function isDeliberatelyUnused(name: string, c: LlamaConfig): boolean {
  if (c.tiedEmbeddings && name === 'lm_head.weight') return true;
  return DELIBERATELY_UNUSED.some((re) => re.test(name));
}
