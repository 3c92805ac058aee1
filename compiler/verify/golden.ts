// Golden files: golden.json (cases, greedy decode) + golden.safetensors (transformers' float32
// outputs). Read-only data: llamac never writes or loosens them.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LlamacError } from '../errors.js';
import { readSafetensorsHeader, readTensor } from '../checkpoint/safetensors.js';

export interface GoldenCase {
  readonly name: string;
  readonly inputIds: readonly number[];
  readonly startPosition: number;
  /** [T, vocab] */
  readonly logits: Float32Array;
}

export interface GoldenGreedy {
  readonly prompt: string;
  readonly newTokens: readonly number[];
  /** [N, vocab]; row i chose newTokens[i]. */
  readonly stepLogits: Float32Array;
}

export interface Golden {
  readonly dir: string;
  readonly vocab: number;
  readonly cases: readonly GoldenCase[];
  readonly greedy: GoldenGreedy | null;
  readonly perplexity: { readonly meanNll: number; readonly ppl: number; readonly tokens: number } | null;
  /** Other tensors (inv_freq, hidden states) by name. */
  tensor(name: string): Float32Array | null;
  tensorShape(name: string): readonly number[] | null;
}

interface GoldenJson {
  cases?: Record<string, { input_ids: number[]; start_position?: number }>;
  greedy?: { prompt: string; new_tokens: number[] };
  perplexity?: { dev?: { mean_nll: number; ppl: number; tokens: number } };
}

export function loadGolden(dir: string): Golden {
  const jsonFile = join(dir, 'golden.json');
  const stFile = join(dir, 'golden.safetensors');
  if (!existsSync(jsonFile)) throw new LlamacError(`${dir}: no golden.json`);
  if (!existsSync(stFile)) throw new LlamacError(`${dir}: no golden.safetensors`);
  let json: GoldenJson;
  try {
    json = JSON.parse(readFileSync(jsonFile, 'utf8')) as GoldenJson;
  } catch (e) {
    throw new LlamacError(`${jsonFile}: bad JSON: ${(e as Error).message}`);
  }
  const header = readSafetensorsHeader(stFile);
  const need = (name: string): Float32Array => {
    const ref = header.tensors.get(name);
    if (!ref) throw new LlamacError(`${stFile}: tensor '${name}' is missing`);
    return readTensor(ref);
  };
  const cases: GoldenCase[] = [];
  let vocab = 0;
  for (const [name, c] of Object.entries(json.cases ?? {})) {
    const ref = header.tensors.get(`${name}.logits`);
    if (!ref) throw new LlamacError(`${stFile}: tensor '${name}.logits' is missing`);
    if (ref.shape[0] !== c.input_ids.length) throw new LlamacError(`${stFile}: '${name}.logits' has ${ref.shape[0]} rows for ${c.input_ids.length} input ids`);
    vocab = ref.shape[1];
    cases.push({ name, inputIds: c.input_ids, startPosition: c.start_position ?? 0, logits: readTensor(ref) });
  }
  if (cases.length === 0) throw new LlamacError(`${jsonFile}: no cases`);
  const greedy = json.greedy
    ? { prompt: json.greedy.prompt, newTokens: json.greedy.new_tokens, stepLogits: need('greedy.step_logits') }
    : null;
  const dev = json.perplexity?.dev;
  return {
    dir,
    vocab,
    cases,
    greedy,
    perplexity: dev ? { meanNll: dev.mean_nll, ppl: dev.ppl, tokens: dev.tokens } : null,
    tensor: (name) => {
      const ref = header.tensors.get(name);
      return ref ? readTensor(ref) : null;
    },
    tensorShape: (name) => header.tensors.get(name)?.shape ?? null,
  };
}
