// Pass criteria per quantization, in one table. Float32 is held to transformers' outputs tightly;
// quantized graphs to quality bounds against transformers, and targets to the interpreter.

import { FLOAT32_THRESHOLDS, type Thresholds } from './verify.js';

/**
 * Sanity bounds of a quantized reference graph against transformers' float64 logits: they catch a
 * broken quantizer (KL of unrelated logits is several nats), not a slightly worse one. Top-1 and
 * greedy agreement are reported only: the random-weight fixtures have near-flat distributions
 * whose argmax flips under any 4-bit noise. Quantization quality is measured as perplexity on
 * stories260K (bench/RESULTS.md). Measured worst KL on the fixtures: int8 0.005, int4 0.56, q4_0 0.69.
 */
const QUANT_QUALITY: Readonly<Record<string, Thresholds>> = {
  int8: { label: 'int8 sanity', maxAbs: null, minTop1: null, maxKl: 0.02, greedyMatch: 0 },
  int4: { label: 'int4 sanity', maxAbs: null, minTop1: null, maxKl: 1.0, greedyMatch: 0 },
  q4_0: { label: 'q4_0 sanity', maxAbs: null, minTop1: null, maxKl: 1.0, greedyMatch: 0 },
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
