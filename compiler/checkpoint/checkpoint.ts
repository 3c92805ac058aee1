// A Hugging Face checkpoint folder: config.json + model.safetensors, or a sharded set named by
// model.safetensors.index.json. Opening it validates headers, names and shapes; reads no weights.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import { LlamacError } from '../errors.js';
import { parseLlamaConfig, type LlamaConfig } from './config.js';
import { expectedLlamaTensors, isDeliberatelyUnused } from './llama-names.js';
import { readSafetensorsHeader, readTensor, readTensorRows, type StorageDType, type TensorRef } from './safetensors.js';

export interface Checkpoint {
  readonly dir: string;
  readonly name: string;
  readonly config: LlamaConfig;
  readonly rawConfig: Readonly<Record<string, unknown>>;
  /** Every tensor the model uses, by Hugging Face name. */
  readonly tensors: ReadonlyMap<string, TensorRef>;
  readonly files: readonly string[];
  read(name: string): Float32Array;
  readRows(name: string, rowStart: number, rowCount: number): Float32Array;
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new LlamacError(`${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new LlamacError(`${file}: bad JSON: ${(e as Error).message}`);
  }
}

function shardFiles(dir: string): string[] {
  const indexFile = join(dir, 'model.safetensors.index.json');
  if (existsSync(indexFile)) {
    const index = readJson(indexFile) as { weight_map?: unknown };
    const map = index.weight_map;
    if (typeof map !== 'object' || map === null || Array.isArray(map)) throw new LlamacError(`${indexFile}: missing weight_map`);
    const shards = new Set<string>();
    for (const [tensor, shard] of Object.entries(map as Record<string, unknown>)) {
      if (typeof shard !== 'string') throw new LlamacError(`${indexFile}: tensor '${tensor}' maps to a non-string shard`);
      const full = resolve(dir, shard);
      const rel = relative(resolve(dir), full);
      if (isAbsolute(shard) || rel.startsWith('..') || rel.includes('/') || rel.includes('\\') || shard !== basename(shard)) {
        throw new LlamacError(`${indexFile}: shard '${shard}' (for tensor '${tensor}') points outside the checkpoint folder`);
      }
      shards.add(shard);
    }
    return [...shards].sort().map((s) => join(dir, s));
  }
  const single = join(dir, 'model.safetensors');
  if (existsSync(single)) return [single];
  throw new LlamacError(`${dir}: no model.safetensors or model.safetensors.index.json`);
}

/**
 * num_hidden_layers against the layers the tensors hold, before anything loops over layers: a
 * config claiming 10^12 layers is refused here instead of building 10^12 expected names.
 */
function checkLayerCount(numLayers: number, all: ReadonlyMap<string, TensorRef>, configFile: string): void {
  // Distinct indices, not the largest one: a lone 'model.layers.1999999999.*' must not make a
  // matching num_hidden_layers look plausible.
  const indices = new Set<number>();
  let max = -1;
  for (const name of all.keys()) {
    const m = /^model\.layers\.(\d{1,10})\./.exec(name);
    if (m) {
      indices.add(Number(m[1]));
      max = Math.max(max, Number(m[1]));
    }
  }
  const present = indices.size;
  const contiguous = max + 1 === present;
  if (present !== numLayers || !contiguous) {
    const has = present === 0 ? 'no model.layers.* tensors' : contiguous ? `tensors for ${present} layer${present === 1 ? '' : 's'} (model.layers.0 to model.layers.${present - 1})` : `tensors for ${present} layers numbered up to ${max}`;
    throw new LlamacError(`${configFile}: num_hidden_layers: ${numLayers}, but the checkpoint has ${has}`);
  }
}

/** Open and validate a local checkpoint folder. */
export function openCheckpoint(dirArg: string): Checkpoint {
  const dir = resolve(dirArg);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new LlamacError(`${dirArg}: not a checkpoint folder (and not a Hub id in the cache)`);
  const configFile = join(dir, 'config.json');
  if (!existsSync(configFile)) throw new LlamacError(`${dir}: no config.json`);
  const rawConfig = readJson(configFile) as Record<string, unknown>;
  const config = parseLlamaConfig(rawConfig, configFile);
  const files = shardFiles(dir);

  const all = new Map<string, TensorRef>();
  for (const f of files) {
    if (!existsSync(f)) throw new LlamacError(`${f}: shard named in model.safetensors.index.json is missing`);
    for (const [name, ref] of readSafetensorsHeader(f).tensors) {
      const prev = all.get(name);
      if (prev) throw new LlamacError(`${f}: tensor '${name}' also appears in ${prev.file}`);
      all.set(name, ref);
    }
  }

  checkLayerCount(config.numLayers, all, configFile);
  const defaultedNote = Object.keys(config.defaulted).length
    ? ` (config.json leaves out ${Object.entries(config.defaulted).map(([k, v]) => `${k}, transformers' default ${v}`).join('; ')})`
    : '';
  const tensors = new Map<string, TensorRef>();
  for (const exp of expectedLlamaTensors(config)) {
    const ref = all.get(exp.name);
    if (!ref) throw new LlamacError(`${dir}: tensor '${exp.name}' is missing`);
    if (ref.shape.length !== exp.shape.length || ref.shape.some((d, i) => d !== exp.shape[i])) {
      throw new LlamacError(`${ref.file}: tensor '${exp.name}' has shape [${ref.shape.join(', ')}], config.json implies [${exp.shape.join(', ')}]${defaultedNote}`);
    }
    tensors.set(exp.name, ref);
  }
  for (const [name, ref] of all) {
    if (!tensors.has(name) && !isDeliberatelyUnused(name, config)) {
      throw new LlamacError(`${ref.file}: unexpected tensor '${name}' (not part of a Llama checkpoint with this config)`);
    }
  }

  const refOf = (name: string): TensorRef => {
    const ref = tensors.get(name);
    if (!ref) throw new LlamacError(`${dir}: tensor '${name}' is not in the checkpoint`);
    return ref;
  };
  return {
    dir,
    name: basename(dir),
    config,
    rawConfig,
    tensors,
    files,
    read: (name) => readTensor(refOf(name)),
    readRows: (name, rowStart, rowCount) => readTensorRows(refOf(name), rowStart, rowCount),
  };
}

/** Parameter count and bytes per storage dtype. */
export function checkpointStats(ck: Checkpoint): { params: number; bytesByDtype: Record<StorageDType, number> } {
  let params = 0;
  const bytesByDtype: Record<StorageDType, number> = { BF16: 0, F16: 0, F32: 0 };
  for (const ref of ck.tensors.values()) {
    params += ref.shape.reduce((a, b) => a * b, 1);
    bytesByDtype[ref.dtype] += ref.byteLength;
  }
  return { params, bytesByDtype };
}
