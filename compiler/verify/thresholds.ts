// Which bounds a verify run enforces. The bounds themselves are declared per target and per
// quantization by each target (Target.bounds, with the measurements behind them); this file only
// picks the entry and holds the shared float32 bound.

import type { QuantConfig, QuantName } from '../passes/quant-config.js';
import type { GivenOptions } from '../targets/options.js';
import type { Target } from '../targets/target.js';
import type { Thresholds } from './verify.js';

/** A comparison that is reported but not judged. */
export const REPORT_ONLY: Thresholds = { label: 'report only', maxAbs: null, minTop1: null, maxKl: null, greedyMatch: 0 };

/**
 * The quantization whose bounds apply: the preset's, except that float weights with a quantized
 * embedding table (--quant f32 --quant-embeddings int8) are a quantized graph, judged as that format.
 */
export function boundsKey(quant: QuantConfig): QuantName {
  if (quant.linear === null && quant.embeddings !== null) return quant.embeddings.bits === 8 ? 'int8' : 'int4';
  return quant.name;
}

/** Bounds against transformers' goldens (reported only where the target declares none). */
export function goldenThresholds(target: Target, quant: QuantName, given: GivenOptions = {}): Thresholds {
  return target.boundsFor(given)[quant].golden ?? REPORT_ONLY;
}

/** Bounds against the interpreter on the same graph, or null when the target is not held to it. */
export function referenceThresholds(target: Target, quant: QuantName, given: GivenOptions = {}): Thresholds | null {
  return target.boundsFor(given)[quant].vsReference;
}
