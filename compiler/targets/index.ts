// Targets by name. Adding a target: a folder under compiler/targets/ and one entry here (see
// README.md, "Adding a target").

import { LlamacError } from '../errors.js';
import { neonTarget } from './neon/index.js';
import { onnxTarget } from './onnx/index.js';
import { optionKey } from './options.js';
import { referenceTarget } from './reference.js';
import type { Target } from './target.js';
import { webgpuTarget } from './webgpu/index.js';

export const TARGETS: readonly Target[] = [referenceTarget, onnxTarget, neonTarget, webgpuTarget];

export const TARGET_NAMES: readonly string[] = TARGETS.map((t) => t.name);

export function lookupTarget(name: string): Target {
  const t = TARGETS.find((x) => x.name === name);
  if (!t) throw new LlamacError(`--target: unknown target '${name}' (known: ${TARGET_NAMES.join(', ')})`);
  return t;
}

/** Every target option with its owner: the CLI registers these flags (each flag names one option). */
export function allTargetOptions(): { readonly target: Target; readonly key: string; readonly spec: Target['options'][string] }[] {
  const out = TARGETS.flatMap((target) => Object.values(target.options).map((spec) => ({ target, key: optionKey(spec), spec })));
  const seen = new Set<string>();
  for (const o of out) {
    if (seen.has(o.spec.flag)) throw new Error(`internal: two targets declare --${o.spec.flag}`);
    seen.add(o.spec.flag);
  }
  return out;
}
