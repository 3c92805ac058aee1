// Pass criteria per quantization, in one table. Float32 is held to transformers' outputs tightly;
// quantized graphs to quality bounds against transformers, and targets to the interpreter.

import { FLOAT32_THRESHOLDS, type Thresholds } from './verify.js';

/** Quality bounds of a quantized reference graph against transformers' float64 logits. */
const QUANT_QUALITY: Readonly<Record<string, Thresholds>> = {
  int8: { label: 'int8 quality', maxAbs: null, minTop1: 0.9, maxKl: 0.01, greedyMatch: 0.9 },
  int4: { label: 'int4 quality', maxAbs: null, minTop1: 0.5, maxKl: 0.25, greedyMatch: 0.5 },
  q4_0: { label: 'q4_0 quality', maxAbs: null, minTop1: 0.5, maxKl: 0.25, greedyMatch: 0.5 },
};

/** f16 storage of weights: close to float32 but not within 1e-3. */
const F16_THRESHOLDS: Thresholds = { label: 'f16 weights', maxAbs: 2e-2, minTop1: 0.95, maxKl: 1e-3, greedyMatch: 0.95 };

/** When a target is also held to the interpreter, the golden comparison is reported, not enforced. */
const REPORT_ONLY: Thresholds = { label: 'report only', maxAbs: null, minTop1: null, maxKl: null, greedyMatch: 0 };

export function thresholdsFor(quant: string, heldToReference: boolean): Thresholds {
  if (heldToReference) return REPORT_ONLY;
  if (quant === 'f32') return FLOAT32_THRESHOLDS;
  if (quant === 'f16') return F16_THRESHOLDS;
  return QUANT_QUALITY[quant] ?? REPORT_ONLY;
}

/** A target running the same quantized graph as the interpreter (stated in the README). */
export function targetTolerance(target: string, quant: string): Thresholds {
  return { label: `${target} vs reference (${quant})`, maxAbs: 1e-3, minTop1: null, maxKl: null, greedyMatch: 1 };
}
