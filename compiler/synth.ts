// `llamac synth`: deterministic random checkpoints with the real Llama 3.2 shapes (bf16, sharded
// the way the Hub shards them), for benchmarks at real scale without downloading weights.

import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { LlamacError } from './errors.js';
import { prepareOutput } from './output.js';
import { encodeSafetensorsHeader } from './checkpoint/safetensors.js';
import { rng } from './random.js';

export type SynthPresetName = 'llama-3.2-1b' | 'llama-3.2-3b';

interface Preset {
  readonly hidden: number;
  readonly layers: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly ffn: number;
}

export const SYNTH_PRESETS: Readonly<Record<SynthPresetName, Preset>> = {
  'llama-3.2-1b': { hidden: 2048, layers: 16, heads: 32, kvHeads: 8, headDim: 64, ffn: 8192 },
  'llama-3.2-3b': { hidden: 3072, layers: 28, heads: 24, kvHeads: 8, headDim: 128, ffn: 8192 },
};

const VOCAB = 128256;
/** transformers' default max_shard_size; the 3B checkpoint on the Hub comes in two such shards. */
export const DEFAULT_MAX_SHARD_BYTES = 5_000_000_000;

export interface SynthOptions {
  readonly layers?: number;
  readonly maxShardBytes?: number;
  readonly seed?: number;
}

interface PlannedTensor {
  readonly name: string;
  readonly shape: readonly number[];
  /** Normal(mean, std) values, rounded to bf16. */
  readonly mean: number;
  readonly std: number;
}

function plan(p: Preset, layers: number): PlannedTensor[] {
  const t: PlannedTensor[] = [{ name: 'model.embed_tokens.weight', shape: [VOCAB, p.hidden], mean: 0, std: 0.02 }];
  const proj = 1 / Math.sqrt(p.hidden);
  for (let i = 0; i < layers; i++) {
    const l = `model.layers.${i}.`;
    t.push(
      { name: l + 'input_layernorm.weight', shape: [p.hidden], mean: 1, std: 0.05 },
      { name: l + 'self_attn.q_proj.weight', shape: [p.heads * p.headDim, p.hidden], mean: 0, std: proj },
      { name: l + 'self_attn.k_proj.weight', shape: [p.kvHeads * p.headDim, p.hidden], mean: 0, std: proj },
      { name: l + 'self_attn.v_proj.weight', shape: [p.kvHeads * p.headDim, p.hidden], mean: 0, std: proj },
      { name: l + 'self_attn.o_proj.weight', shape: [p.hidden, p.heads * p.headDim], mean: 0, std: proj },
      { name: l + 'post_attention_layernorm.weight', shape: [p.hidden], mean: 1, std: 0.05 },
      { name: l + 'mlp.gate_proj.weight', shape: [p.ffn, p.hidden], mean: 0, std: proj },
      { name: l + 'mlp.up_proj.weight', shape: [p.ffn, p.hidden], mean: 0, std: proj },
      { name: l + 'mlp.down_proj.weight', shape: [p.hidden, p.ffn], mean: 0, std: 1 / Math.sqrt(p.ffn) },
    );
  }
  t.push({ name: 'model.norm.weight', shape: [p.hidden], mean: 1, std: 0.05 });
  return t;
}

const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** Fill `out` with bf16 bytes of Normal(mean, std) (Box-Muller, truncation-free rounding to nearest even). */
function fillBf16(out: Uint8Array, rand: () => number, mean: number, std: number): void {
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  for (let i = 0; i < out.length; i += 4) {
    const u1 = rand() || 1e-12;
    const r = Math.sqrt(-2 * Math.log(u1));
    const th = 2 * Math.PI * rand();
    for (let j = 0; j < 2 && i + 2 * j < out.length; j++) {
      f32[0] = mean + std * r * (j === 0 ? Math.cos(th) : Math.sin(th));
      const x = u32[0];
      const bf = (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
      out[i + 2 * j] = bf & 0xff;
      out[i + 2 * j + 1] = bf >>> 8;
    }
  }
}

function configJson(p: Preset, layers: number): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'],
    attention_bias: false,
    attention_dropout: 0.0,
    bos_token_id: 128000,
    eos_token_id: 128001,
    head_dim: p.headDim,
    hidden_act: 'silu',
    hidden_size: p.hidden,
    initializer_range: 0.02,
    intermediate_size: p.ffn,
    max_position_embeddings: 131072,
    mlp_bias: false,
    model_type: 'llama',
    num_attention_heads: p.heads,
    num_hidden_layers: layers,
    num_key_value_heads: p.kvHeads,
    pretraining_tp: 1,
    rms_norm_eps: 1e-5,
    rope_scaling: { factor: 32.0, high_freq_factor: 4.0, low_freq_factor: 1.0, original_max_position_embeddings: 8192, rope_type: 'llama3' },
    rope_theta: 500000.0,
    tie_word_embeddings: true,
    torch_dtype: 'bfloat16',
    use_cache: true,
    vocab_size: VOCAB,
  };
}

/** Write the checkpoint into a temporary sibling folder, then rename it to outDir. */
export function synthCheckpoint(preset: SynthPresetName, outDir: string, opts: SynthOptions = {}): void {
  const p = SYNTH_PRESETS[preset];
  if (!p) throw new LlamacError(`--preset: unknown preset '${String(preset)}' (known: ${Object.keys(SYNTH_PRESETS).join(', ')})`);
  const layers = opts.layers ?? p.layers;
  if (!Number.isInteger(layers) || layers < 1) throw new LlamacError(`--layers: expected a positive integer, got ${layers}`);
  // The same --out contract as compile: checked first, a pid-named temp folder, cleaned up on death.
  const slot = prepareOutput(outDir);
  const tmp = slot.tmp;
  try {
    const tensors = plan(p, layers);
    const maxShard = opts.maxShardBytes ?? DEFAULT_MAX_SHARD_BYTES;
    const shards: PlannedTensor[][] = [[]];
    let size = 0;
    for (const t of tensors) {
      const bytes = numel(t.shape) * 2;
      if (size > 0 && size + bytes > maxShard) {
        shards.push([]);
        size = 0;
      }
      shards[shards.length - 1].push(t);
      size += bytes;
    }
    const rand = rng(opts.seed ?? 0x11a3ac);
    const names = shards.length === 1 ? ['model.safetensors'] : shards.map((_, i) => `model-${String(i + 1).padStart(5, '0')}-of-${String(shards.length).padStart(5, '0')}.safetensors`);
    const weightMap: Record<string, string> = {};
    let total = 0;
    shards.forEach((shard, si) => {
      const { header } = encodeSafetensorsHeader(shard.map((t) => ({ name: t.name, dtype: 'BF16' as const, shape: t.shape })), { format: 'pt' });
      const fd = openSync(join(tmp, names[si]), 'w');
      try {
        writeSync(fd, header);
        const chunk = new Uint8Array(1 << 22);
        for (const t of shard) {
          let left = numel(t.shape) * 2;
          while (left > 0) {
            const n = Math.min(left, chunk.length);
            const view = chunk.subarray(0, n);
            fillBf16(view, rand, t.mean, t.std);
            writeSync(fd, view);
            left -= n;
          }
          weightMap[t.name] = names[si];
          total += numel(t.shape) * 2;
        }
      } finally {
        closeSync(fd);
      }
    });
    if (shards.length > 1) {
      writeFileSync(join(tmp, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2) + '\n');
    }
    writeFileSync(join(tmp, 'config.json'), JSON.stringify(configJson(p, layers), null, 2) + '\n');
    writeFileSync(join(tmp, 'generation_config.json'), JSON.stringify({ bos_token_id: 128000, eos_token_id: 128001, do_sample: true, temperature: 0.6, top_p: 0.9 }, null, 2) + '\n');
  } catch (e) {
    slot.abort();
    throw e;
  }
  slot.commit();
}
