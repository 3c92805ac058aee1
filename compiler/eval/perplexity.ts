// `llamac eval`: mean negative log-likelihood and perplexity over token-id sequences, each
// truncated to the context length, predicting tokens 2..n from their prefixes.

import { readFileSync } from 'node:fs';
import { LlamacError } from '../errors.js';
import { runCase, type ModelRunner } from '../targets/runner.js';
import { logSoftmax } from '../verify/metrics.js';

export interface PerplexityResult {
  mean_nll: number;
  ppl: number;
  tokens: number;
}

export function loadTokenIds(file: string): number[][] {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new LlamacError(`${file}: ${(e as NodeJS.ErrnoException).code ? 'cannot read' : 'bad JSON'}: ${(e as Error).message}`);
  }
  const stories = (json as { stories?: unknown }).stories;
  if (!Array.isArray(stories) || stories.length === 0) throw new LlamacError(`${file}: expected {"stories": [[ids...], ...]}`);
  stories.forEach((s, i) => {
    if (!Array.isArray(s) || !s.every((t) => Number.isInteger(t) && t >= 0)) throw new LlamacError(`${file}: stories[${i}] is not a list of token ids`);
  });
  return stories as number[][];
}

export async function perplexity(runner: ModelRunner, sequences: readonly (readonly number[])[], maxLen: number): Promise<PerplexityResult> {
  const V = runner.vocabSize;
  let nll = 0;
  let tokens = 0;
  for (const [i, full] of sequences.entries()) {
    const seq = full.slice(0, maxLen);
    for (const t of seq) if (t >= V) throw new LlamacError(`sequence ${i}: token id ${t} outside the vocabulary (${V})`);
    if (seq.length < 2) continue;
    const logits = await runCase(runner, seq, 0);
    for (let p = 0; p + 1 < seq.length; p++) {
      nll -= logSoftmax(logits, p * V, V)[seq[p + 1]];
      tokens++;
    }
  }
  if (tokens === 0) throw new LlamacError('no sequence has two or more tokens to score');
  const mean = nll / tokens;
  return { mean_nll: mean, ppl: Math.exp(mean), tokens };
}
