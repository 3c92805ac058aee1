// Verification of one build cell, on the very artifact that gets packaged: against transformers'
// golden outputs when the model has them (a quantized target is then held to the interpreter on
// the same quantized graph, the golden comparison reported), else against the interpreter on
// fixed token cases. Plus per-layer hidden-state errors from taps, and optional perplexity.

import { tmpdir } from 'node:os';
import type { Built } from '../compile.js';
import { perplexity, type PerplexityResult } from '../eval/perplexity.js';
import { makeTempDir, RUN_TEMP_PREFIX } from '../output.js';
import { exposeValues, layerOutputNames, valuesByName } from '../ir/taps.js';
import { referenceRunner, runCase, type ModelRunner } from '../targets/runner.js';
import type { Golden, GoldenCase } from '../verify/golden.js';
import { maxAbsError } from '../verify/metrics.js';
import { goldenFromRunner } from '../verify/reference-golden.js';
import { boundsKey, goldenThresholds, referenceThresholds, REPORT_ONLY } from '../verify/thresholds.js';
import { verifyAgainstGolden, type VerifyReport } from '../verify/verify.js';
import { rng } from '../random.js';

export interface LayerErrors {
  /** Per case: max abs error of the residual stream after each layer, target vs the interpreter. */
  readonly vs_reference: Record<string, (number | null)[]>;
  /** Per case with transformers' hidden states in the golden set: target vs transformers. */
  readonly vs_golden: Record<string, (number | null)[]>;
}

export interface CellVerification {
  readonly pass: boolean;
  /** 'golden': transformers' outputs; 'reference': the interpreter on fixed cases (no golden set). */
  readonly against: 'golden' | 'reference';
  readonly golden: VerifyReport | null;
  readonly vs_reference: VerifyReport | null;
  readonly layers: LayerErrors | null;
  readonly perplexity: PerplexityResult | null;
}

/** Token cases for models without a golden set: seeded ids, one case at a far position, 16 greedy steps. */
export function syntheticCases(vocab: number): Golden {
  const rand = rng(0x11a3ac);
  const ids = (n: number) => Array.from({ length: n }, () => Math.floor(rand() * vocab));
  const cases: GoldenCase[] = [
    { name: 'short', inputIds: ids(8), startPosition: 0, logits: new Float32Array(0) },
    { name: 'long', inputIds: ids(32), startPosition: 0, logits: new Float32Array(0) },
    { name: 'offset', inputIds: ids(8), startPosition: 1000, logits: new Float32Array(0) },
  ];
  return {
    dir: 'synthetic cases',
    vocab,
    cases,
    greedy: { prompt: 'short', newTokens: new Array<number>(16).fill(0), stepLogits: new Float32Array(0) },
    perplexity: null,
    tensor: () => null,
    tensorShape: () => null,
  };
}

async function tapsOf(runner: ModelRunner, c: GoldenCase): Promise<readonly Float32Array[]> {
  if (!runner.taps) return [];
  await runCase(runner, c.inputIds, c.startPosition);
  return runner.taps();
}

/** Emits the graph with its layer outputs tapped, runs target and interpreter, compares per layer. */
export async function layerErrors(built: Built, cases: Golden): Promise<LayerErrors | null> {
  const names = layerOutputNames(built.graph);
  const found = valuesByName(built.graph, names);
  const tapped = exposeValues(built.graph, found.filter((v) => v !== null));
  const slot = found.map((v, i) => (v === null ? -1 : found.slice(0, i).filter((x) => x !== null).length));
  const tmp = makeTempDir(tmpdir(), RUN_TEMP_PREFIX);
  const dir = tmp.path;
  let target: ModelRunner | null = null;
  let ref: ModelRunner | null = null;
  try {
    await built.target.emit(tapped, dir, built.ctx);
    target = await built.target.load(dir, tapped, built.ctx);
    ref = referenceRunner(tapped, built.ctx.reader, built.target.referenceMode(built.ctx.options));
    const vsRef: Record<string, (number | null)[]> = {};
    const vsGolden: Record<string, (number | null)[]> = {};
    for (const c of cases.cases) {
      const got = await tapsOf(target, c);
      if (got.length === 0) return null; // a target that does not return taps
      const want = await tapsOf(ref, c);
      vsRef[c.name] = slot.map((s) => (s < 0 ? null : maxAbsError(want[s], got[s])));
      const hidden = cases.tensor(`${c.name}.layer_outputs`);
      const T = c.inputIds.length;
      const H = built.graph.info.hiddenSize;
      if (hidden && hidden.length === names.length * T * H) {
        vsGolden[c.name] = slot.map((s, l) => (s < 0 ? null : maxAbsError(hidden.subarray(l * T * H, (l + 1) * T * H), got[s])));
      }
    }
    return { vs_reference: vsRef, vs_golden: vsGolden };
  } finally {
    await target?.dispose();
    await ref?.dispose();
    tmp.remove();
  }
}

export interface VerifyCellInput {
  readonly built: Built;
  /** The emitted artifact folder (what gets packaged). */
  readonly artifactDir: string;
  readonly golden: Golden | null;
  readonly evalIds: readonly (readonly number[])[] | null;
  readonly evalMaxLen: number;
}

export async function verifyCell(x: VerifyCellInput): Promise<CellVerification> {
  const { built } = x;
  const target = built.target;
  const quant = built.ctx.quant.name;
  // f32/f16 weights with a quantized embedding table are judged as that quantized format.
  const key = boundsKey(built.ctx.quant);
  const runner = await target.load(x.artifactDir, built.graph, built.ctx);
  // Only a target whose runner returns taps is asked to build the tapped graph.
  const tapsSupported = typeof runner.taps === 'function';
  const isReference = target.name === 'reference';
  let golden: VerifyReport | null = null;
  let vsReference: VerifyReport | null = null;
  let ppl: PerplexityResult | null = null;
  const cases = x.golden ?? syntheticCases(built.graph.info.vocabSize);
  try {
    // Without goldens, a target is held to the interpreter with the bound it declares for goldens.
    const refBounds = isReference ? null : (referenceThresholds(target, key) ?? (x.golden ? null : (target.bounds[key].golden ?? REPORT_ONLY)));
    if (refBounds) {
      const ref = referenceRunner(built.graph, built.ctx.reader, target.referenceMode(built.ctx.options));
      try {
        vsReference = await verifyAgainstGolden(runner, await goldenFromRunner(cases, ref), quant, refBounds);
      } finally {
        await ref.dispose();
      }
    }
    if (x.golden) golden = await verifyAgainstGolden(runner, x.golden, quant, goldenThresholds(target, key));
    if (x.evalIds) ppl = await perplexity(runner, x.evalIds, x.evalMaxLen);
  } finally {
    await runner.dispose();
  }
  const layers = isReference || !tapsSupported ? null : await layerErrors(built, cases);
  const pass = (golden?.pass ?? true) && (vsReference?.pass ?? true);
  return { pass, against: x.golden ? 'golden' : 'reference', golden, vs_reference: vsReference, layers, perplexity: ppl };
}
