// Package layouts for the clients people load ONNX artifacts with. These are per client, not per
// target: a layout applies to any artifact folder holding model.onnx.
//  - genai: onnxruntime-genai reads genai_config.json beside model.onnx: the artifact folder as
//    is, checked here against the genai config schema (keys and types as onnxruntime-genai's
//    src/config.cpp parses them) and against the model's own inputs, outputs and ops.
//  - transformers.js: config.json and tokenizer files at the top, onnx/model.onnx and its weights
//    as onnx/model.onnx_data (the name transformers.js asks for when config.json's
//    transformers.js_config.use_external_data_format is set; model.onnx points at it).

import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LlamacError } from '../errors.js';
import { modelSignature, relocateExternalData } from '../targets/onnx/external-data.js';

export const ONNX_MODEL = 'model.onnx';
const ONNX_DATA = 'model.onnx.data';

export interface Layout {
  readonly name: string;
  readonly applies: (artifactDir: string) => boolean;
  /** Writes the layout's extra files under `dir` (a fresh folder); throws when the artifact does not fit the client. */
  readonly write: (artifactDir: string, dir: string) => void;
  /** Folder inside the package that a client loads ('' = the artifact folder itself). */
  readonly folder: string;
}

// ---- onnxruntime-genai ----

type J = unknown;
const isInt = (v: J) => typeof v === 'number' && Number.isInteger(v);
const isStr = (v: J) => typeof v === 'string' && v !== '';
const isBool = (v: J) => typeof v === 'boolean';
const isNum = (v: J) => typeof v === 'number' && Number.isFinite(v);

/** The genai_config.json keys llamac writes, with the value type onnxruntime-genai's parser expects. */
const GENAI_SCHEMA = {
  model: {
    bos_token_id: isInt,
    context_length: (v: J) => isInt(v) && (v as number) > 0,
    eos_token_id: (v: J) => isInt(v) || (Array.isArray(v) && v.length > 0 && v.every(isInt)),
    pad_token_id: isInt,
    type: isStr,
    vocab_size: isInt,
    decoder: {
      filename: isStr,
      head_size: isInt,
      hidden_size: isInt,
      num_attention_heads: isInt,
      num_hidden_layers: isInt,
      num_key_value_heads: isInt,
      session_options: { log_id: isStr, provider_options: Array.isArray },
      inputs: { input_ids: isStr, attention_mask: isStr, position_ids: isStr, past_key_names: isStr, past_value_names: isStr },
      outputs: { logits: isStr, present_key_names: isStr, present_value_names: isStr },
    },
  },
  search: {
    diversity_penalty: isNum,
    do_sample: isBool,
    early_stopping: isBool,
    length_penalty: isNum,
    max_length: isInt,
    min_length: isInt,
    no_repeat_ngram_size: isInt,
    num_beams: isInt,
    num_return_sequences: isInt,
    past_present_share_buffer: isBool,
    repetition_penalty: isNum,
    temperature: isNum,
    top_k: isInt,
    top_p: isNum,
  },
} as const;

type Schema = { readonly [k: string]: Schema | ((v: J) => boolean) };

function checkSchema(v: J, schema: Schema, path: string, file: string): void {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new LlamacError(`${file}: ${path || 'top level'}: expected an object`);
  for (const [k, val] of Object.entries(v)) {
    const s = schema[k];
    const where = path ? `${path}.${k}` : k;
    if (s === undefined) throw new LlamacError(`${file}: ${where}: not a key onnxruntime-genai knows here`);
    if (typeof s === 'function') {
      if (!s(val)) throw new LlamacError(`${file}: ${where}: bad value ${JSON.stringify(val)}`);
    } else checkSchema(val, s, where, file);
  }
}

interface GenaiConfig {
  model: {
    context_length: number;
    decoder: {
      filename: string;
      num_hidden_layers: number;
      inputs: Record<string, string>;
      outputs: Record<string, string>;
    };
  };
  search: { past_present_share_buffer?: boolean; max_length?: number };
}

/** Checks genai_config.json against the schema and against model.onnx; returns the checks made. */
export function checkGenaiFolder(dir: string): string[] {
  const file = join(dir, 'genai_config.json');
  if (!existsSync(file)) throw new LlamacError(`${dir}: no genai_config.json`);
  const raw = JSON.parse(readFileSync(file, 'utf8')) as J;
  checkSchema(raw, GENAI_SCHEMA, '', file);
  const cfg = raw as GenaiConfig;
  const d = cfg.model.decoder;
  const modelFile = join(dir, d.filename);
  if (!existsSync(modelFile)) throw new LlamacError(`${file}: model.decoder.filename: ${d.filename} is not in the folder`);
  const sig = modelSignature(readFileSync(modelFile));
  const L = d.num_hidden_layers;
  const want = (names: string[], what: 'inputs' | 'outputs') => {
    const have = new Set(sig[what]);
    for (const n of names) if (!have.has(n)) throw new LlamacError(`${file}: model.decoder.${what}: '${n}' is not a graph ${what.slice(0, -1)} of ${d.filename}`);
  };
  const per = (pattern: string) => Array.from({ length: L }, (_, i) => pattern.replace('%d', String(i)));
  want([d.inputs['input_ids'], d.inputs['attention_mask'], d.inputs['position_ids'], ...per(d.inputs['past_key_names']), ...per(d.inputs['past_value_names'])], 'inputs');
  want([d.outputs['logits'], ...per(d.outputs['present_key_names']), ...per(d.outputs['present_value_names'])], 'outputs');
  const keyPattern = new RegExp(`^${d.inputs['past_key_names'].replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace('%d', '\\d+')}$`);
  const pastCount = sig.inputs.filter((n) => keyPattern.test(n)).length;
  if (pastCount !== L) throw new LlamacError(`${file}: model.decoder.num_hidden_layers is ${L}, ${d.filename} has ${pastCount} past key inputs`);
  // A shared past/present buffer (present written in place into a max_length past) is what
  // com.microsoft.GroupQueryAttention supports; standard-ops attention concatenates, so it must be off.
  const gqa = sig.opTypes.includes('com.microsoft.GroupQueryAttention');
  if (cfg.search.past_present_share_buffer === true && !gqa) {
    throw new LlamacError(`${file}: search.past_present_share_buffer: true needs GroupQueryAttention, ${d.filename} has none (its attention concatenates past and new keys)`);
  }
  return [
    'genai_config.json keys and value types (onnxruntime-genai config schema)',
    `${d.filename}: ${2 + 2 * L + 1} named inputs present, ${1 + 2 * L} named outputs present`,
    `past_present_share_buffer ${cfg.search.past_present_share_buffer ?? false} (${gqa ? 'GroupQueryAttention graph: either value is supported' : 'no GroupQueryAttention: must be false'})`,
  ];
}

const genai: Layout = {
  name: 'genai',
  folder: '',
  applies: (dir) => existsSync(join(dir, ONNX_MODEL)) && existsSync(join(dir, 'genai_config.json')),
  write: (dir) => void checkGenaiFolder(dir),
};

// ---- transformers.js ----

/** transformers.js's name for model.onnx's external data (`${file}_data`). */
export const TJS_DATA = 'model.onnx_data';

const transformersJs: Layout = {
  name: 'transformers.js',
  folder: 'transformers.js',
  applies: (dir) => existsSync(join(dir, ONNX_MODEL)) && existsSync(join(dir, 'config.json')),
  write: (artifactDir, dir) => {
    mkdirSync(join(dir, 'onnx'), { recursive: true });
    const external = existsSync(join(artifactDir, ONNX_DATA));
    const model = readFileSync(join(artifactDir, ONNX_MODEL));
    writeFileSync(join(dir, 'onnx', ONNX_MODEL), external ? relocateExternalData(model, TJS_DATA) : model);
    if (external) copyFileSync(join(artifactDir, ONNX_DATA), join(dir, 'onnx', TJS_DATA));
    const config = JSON.parse(readFileSync(join(artifactDir, 'config.json'), 'utf8')) as Record<string, unknown>;
    const tjs = { ...((config['transformers.js_config'] as Record<string, unknown> | undefined) ?? {}) };
    if (external) tjs['use_external_data_format'] = { [ONNX_MODEL]: 1 };
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, 'transformers.js_config': tjs }, null, 2) + '\n');
    for (const f of readdirSync(artifactDir).sort()) {
      if (/^(generation_config\.json|tokenizer\.json|tokenizer_config\.json|special_tokens_map\.json)$/.test(f)) copyFileSync(join(artifactDir, f), join(dir, f));
    }
  },
};

export const LAYOUTS: readonly Layout[] = [genai, transformersJs];

export function lookupLayout(name: string): Layout {
  const l = LAYOUTS.find((x) => x.name === name);
  if (!l) throw new LlamacError(`unknown layout '${name}'`);
  return l;
}
