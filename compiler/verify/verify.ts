// `llamac verify`: run every golden case (prefill at start_position, empty cache) and the greedy
// decode through the KV cache on a target, and judge each against thresholds.

import { runCase, type ModelRunner } from '../targets/runner.js';
import { LlamacError } from '../errors.js';
import type { Golden } from './golden.js';
import { argmax, maxAbsError, meanKl, top1Agreement } from './metrics.js';

/** Pass criteria for one comparison. A null bound is reported but not enforced. */
export interface Thresholds {
  readonly label: string;
  /** Max abs logit error per case. */
  readonly maxAbs: number | null;
  /** Minimum top-1 agreement per case. */
  readonly minTop1: number | null;
  /** Max mean KL(golden || target) per case. */
  readonly maxKl: number | null;
  /** Minimum fraction of greedy steps choosing the golden token (teacher-forced). */
  readonly greedyMatch: number;
}

/**
 * Float32 against transformers' float64 goldens. RoPE angles are computed the way transformers
 * computes them, so the far case (positions 100000+) holds the same 1e-3 as the others.
 */
export const FLOAT32_THRESHOLDS: Thresholds = { label: 'float32', maxAbs: 1e-3, minTop1: null, maxKl: null, greedyMatch: 1 };

export interface CaseReport {
  max_abs_err: number;
  top1: number;
  kl: number;
  pass: boolean;
}

export interface VerifyReport {
  pass: boolean;
  target: string;
  quant: string;
  thresholds: Thresholds;
  cases: Record<string, CaseReport>;
  greedy: { match: number; tokens: number; max_abs_err: number; pass: boolean } | null;
}

function judge(t: Thresholds, maxAbs: number, top1: number, kl: number): boolean {
  return (t.maxAbs === null || maxAbs <= t.maxAbs) && (t.minTop1 === null || top1 >= t.minTop1) && (t.maxKl === null || kl <= t.maxKl);
}

export async function verifyAgainstGolden(runner: ModelRunner, golden: Golden, quant: string, t: Thresholds): Promise<VerifyReport> {
  const V = runner.vocabSize;
  if (golden.vocab !== V) throw new LlamacError(`${golden.dir}: golden logits have vocab ${golden.vocab}, the model has ${V}`);
  const cases: Record<string, CaseReport> = {};
  for (const c of golden.cases) {
    const logits = await runCase(runner, c.inputIds, c.startPosition);
    const maxAbs = maxAbsError(c.logits, logits);
    const top1 = top1Agreement(c.logits, logits, V);
    const kl = meanKl(c.logits, logits, V);
    cases[c.name] = { max_abs_err: maxAbs, top1, kl, pass: judge(t, maxAbs, top1, kl) };
  }
  let greedy: VerifyReport['greedy'] = null;
  if (golden.greedy) {
    const prompt = golden.cases.find((c) => c.name === golden.greedy?.prompt);
    if (!prompt) throw new LlamacError(`${golden.dir}: greedy prompt '${golden.greedy.prompt}' is not a case`);
    // Teacher-forced: feed the golden tokens so every step compares the same cache state; all steps
    // agreeing is exactly "free-running greedy gives identical tokens".
    const { newTokens, stepLogits } = golden.greedy;
    const first = await runCase(runner, prompt.inputIds, prompt.startPosition);
    let row = first.subarray((prompt.inputIds.length - 1) * V);
    let same = 0;
    let worst = 0;
    for (let i = 0; i < newTokens.length; i++) {
      if (argmax(row) === newTokens[i]) same++;
      worst = Math.max(worst, maxAbsError(stepLogits.subarray(i * V, (i + 1) * V), row));
      if (i + 1 < newTokens.length) row = await runner.decode(newTokens[i]);
    }
    const match = same / newTokens.length;
    greedy = { match, tokens: newTokens.length, max_abs_err: worst, pass: match >= t.greedyMatch && (t.maxAbs === null || worst <= t.maxAbs) };
  }
  const pass = Object.values(cases).every((c) => c.pass) && (greedy?.pass ?? true);
  return { pass, target: runner.target, quant, thresholds: t, cases, greedy };
}

export function formatVerifyReport(r: VerifyReport): string {
  const lines = [`verify: target=${r.target} quant=${r.quant} thresholds=${r.thresholds.label}`];
  for (const [name, c] of Object.entries(r.cases)) {
    lines.push(`  ${name.padEnd(8)} max_abs_err=${c.max_abs_err.toExponential(3)} top1=${c.top1.toFixed(3)} kl=${c.kl.toExponential(3)} ${c.pass ? 'ok' : 'FAIL'}`);
  }
  if (r.greedy) lines.push(`  greedy   match=${r.greedy.match.toFixed(3)} (${r.greedy.tokens} tokens) max_abs_err=${r.greedy.max_abs_err.toExponential(3)} ${r.greedy.pass ? 'ok' : 'FAIL'}`);
  lines.push(r.pass ? 'PASS' : 'FAIL');
  return lines.join('\n');
}
