// Targets by name. Adding a target: a folder under compiler/targets/ and one entry here.

import { LlamacError } from '../errors.js';
import { onnxTarget } from './onnx/index.js';
import { referenceTarget } from './reference.js';
import type { Target } from './target.js';
import { webgpuTarget } from './webgpu/index.js';

const TARGETS: readonly Target[] = [referenceTarget, onnxTarget, webgpuTarget];

export const TARGET_NAMES: readonly string[] = TARGETS.map((t) => t.name);

export function lookupTarget(name: string): Target {
  const t = TARGETS.find((x) => x.name === name);
  if (!t) throw new LlamacError(`--target: unknown target '${name}' (known: ${TARGET_NAMES.join(', ')})`);
  return t;
}
