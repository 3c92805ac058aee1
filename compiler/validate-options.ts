// Option checks that need the model's config (read with the headers, before any weight).
// Target option values are checked earlier, by each target's declared options (checkedTarget in
// commands.ts calls Target.checkOptions).

import { LlamacError } from './errors.js';

/** Every id in a token-id file below the vocabulary size; names the option, file and position. */
export function checkTokenIds(sequences: readonly (readonly number[])[], vocabSize: number, option: string, file: string): void {
  for (const [i, s] of sequences.entries()) {
    const j = s.findIndex((t) => t >= vocabSize);
    if (j >= 0) throw new LlamacError(`${option}: ${file}: stories[${i}][${j}]: token id ${s[j]} is outside the vocabulary (vocab_size ${vocabSize})`);
  }
}
