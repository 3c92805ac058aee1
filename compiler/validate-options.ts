// Option checks that run before any weight is read: target-specific option values (through the
// target's own hook) and token-id files against the model's vocabulary.

import { LlamacError } from './errors.js';
import type { QuantConfig } from './passes/quant-config.js';
import type { Target } from './targets/target.js';

/**
 * The one place target-specific option values are checked before a build starts; each target
 * answers through `checkOptions` (the same parser its emit uses), so a bad value fails in
 * milliseconds, not after quantization.
 */
export function checkTargetOptions(target: Target, options: Readonly<Record<string, string>>, quant: QuantConfig): void {
  target.checkOptions?.(options, quant);
}

/** Every id in a token-id file below the vocabulary size; names the option, file and position. */
export function checkTokenIds(sequences: readonly (readonly number[])[], vocabSize: number, option: string, file: string): void {
  for (const [i, s] of sequences.entries()) {
    const j = s.findIndex((t) => t >= vocabSize);
    if (j >= 0) throw new LlamacError(`${option}: ${file}: stories[${i}][${j}]: token id ${s[j]} is outside the vocabulary (vocab_size ${vocabSize})`);
  }
}
