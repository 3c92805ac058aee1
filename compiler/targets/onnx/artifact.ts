// The files around model.onnx: genai_config.json for onnxruntime-genai, the checkpoint's
// tokenizer/generation files, and manifest.json (sha256 of every file, version, options, source).

import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, openSync, readdirSync, readSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { ModelInfo } from '../../ir/graph.js';
import { LLAMAC_VERSION } from '../../version.js';
import type { LowerOptions } from './context.js';
import { IO_NAMES, MODEL_FILE } from './emit.js';
import { OPSETS } from './options.js';

export const MANIFEST_FILE = 'manifest.json';
export const GENAI_CONFIG_FILE = 'genai_config.json';

/** Tokenizer and generation files worth carrying (HF tokenizers, sentencepiece, llama2.c tok*.bin). */
const COPIED = /^(config\.json|generation_config\.json|tokenizer\.json|tokenizer_config\.json|special_tokens_map\.json|added_tokens\.json|tokenizer\.model|vocab\.json|merges\.txt|chat_template\.(json|jinja)|tok\d*\.bin|.*\.tiktoken)$/;

export function copyTokenizerFiles(checkpointDir: string, outDir: string): string[] {
  const copied: string[] = [];
  for (const f of readdirSync(checkpointDir).sort()) {
    if (!COPIED.test(f) || !statSync(join(checkpointDir, f)).isFile()) continue;
    copyFileSync(join(checkpointDir, f), join(outDir, f));
    copied.push(f);
  }
  return copied;
}

export function genaiConfig(info: ModelInfo): unknown {
  const eos = info.eosTokenIds;
  return {
    model: {
      ...(info.bosTokenId !== null ? { bos_token_id: info.bosTokenId } : {}),
      context_length: info.maxPositions,
      decoder: {
        session_options: { log_id: 'onnxruntime-genai', provider_options: [] },
        filename: MODEL_FILE,
        head_size: info.headDim,
        hidden_size: info.hiddenSize,
        inputs: {
          input_ids: IO_NAMES.inputIds,
          attention_mask: IO_NAMES.attentionMask,
          position_ids: IO_NAMES.positionIds,
          past_key_names: 'past_key_values.%d.key',
          past_value_names: 'past_key_values.%d.value',
        },
        outputs: { logits: IO_NAMES.logits, present_key_names: 'present.%d.key', present_value_names: 'present.%d.value' },
        num_attention_heads: info.numHeads,
        num_hidden_layers: info.numLayers,
        num_key_value_heads: info.numKvHeads,
      },
      eos_token_id: eos.length === 1 ? eos[0] : [...eos],
      pad_token_id: eos.length > 0 ? eos[0] : 0,
      type: 'llama',
      vocab_size: info.vocabSize,
    },
    search: {
      diversity_penalty: 0.0,
      do_sample: false,
      early_stopping: true,
      length_penalty: 1.0,
      max_length: info.maxPositions,
      min_length: 0,
      no_repeat_ngram_size: 0,
      num_beams: 1,
      num_return_sequences: 1,
      // present is past + new (a growing cache), not a preallocated shared buffer.
      past_present_share_buffer: false,
      repetition_penalty: 1.0,
      temperature: 1.0,
      top_k: 1,
      top_p: 1.0,
    },
  };
}

/** sha256 of a file, read in 16 MiB pieces (the data file can exceed memory comfort). */
export function sha256File(file: string): string {
  const h = createHash('sha256');
  const buf = new Uint8Array(16 << 20);
  const fd = openSync(file, 'r');
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

export interface FileEntry {
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
}

export function describeFile(dir: string, name: string): FileEntry {
  const file = join(dir, name);
  return { path: name, bytes: statSync(file).size, sha256: sha256File(file) };
}

export interface ManifestInput {
  readonly info: ModelInfo;
  readonly opts: LowerOptions;
  readonly targetOptions: Readonly<Record<string, string>>;
  readonly recordedOptions: Readonly<Record<string, string | number | boolean>>;
  readonly quant: string;
  readonly checkpointDir: string;
  readonly parameters: number;
  readonly dataBytes: number;
  readonly opTypes: readonly string[];
}

export function writeManifest(outDir: string, m: ManifestInput): void {
  const files = readdirSync(outDir)
    .filter((f) => f !== MANIFEST_FILE)
    .sort()
    .map((f) => describeFile(outDir, f));
  const ckFiles = existsSync(m.checkpointDir)
    ? readdirSync(m.checkpointDir)
        .filter((f) => f === 'config.json' || f.endsWith('.safetensors') || f === 'model.safetensors.index.json')
        .sort()
        .map((f) => describeFile(m.checkpointDir, f))
    : [];
  const v = OPSETS[m.opts.ops];
  const manifest = {
    format: 'llamac-onnx/1',
    llamac_version: LLAMAC_VERSION,
    target: 'onnx',
    model: m.info.name,
    quant: m.quant,
    options: m.recordedOptions,
    target_options: { ...m.targetOptions, onnxOps: m.opts.ops, onnxAccuracyLevel: String(m.opts.accuracyLevel) },
    onnx: {
      ir_version: v.irVersion,
      opset: { 'ai.onnx': v.opset, ...(v.msOpset !== null ? { 'com.microsoft': v.msOpset } : {}) },
      op_types: m.opTypes,
      matrix_dtype: m.opts.matrixDtype,
    },
    weights: { parameters: m.parameters, data_bytes: m.dataBytes, bits_per_parameter: (m.dataBytes * 8) / m.parameters },
    source_checkpoint: { name: basename(m.checkpointDir), files: ckFiles },
    files,
  };
  writeFileSync(join(outDir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
}
