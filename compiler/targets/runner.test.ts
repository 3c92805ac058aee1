// The stateful runner contract, for every registered target: the cache lives in the runner, so a
// prefill in pieces, a decode step by step and one whole prefill must agree; reset() starts a new
// case (at any position) and the results match the reference interpreter.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildForTarget, loadModel, runnerFor } from '../compile.js';
import { NO_QUANT } from '../passes/quant-config.js';
import { maxAbsError } from '../verify/metrics.js';
import { TARGETS } from './index.js';
import { referenceRunner, runCase, type ModelRunner } from './runner.js';

const REPO = new URL('../../', import.meta.url).pathname;
const IDS = [1, 419, 375, 491, 122, 392, 267, 88, 5, 301];

function rows(logits: Float32Array, V: number, from: number, to: number): Float32Array {
  return logits.subarray(from * V, to * V);
}

describe.each(TARGETS.map((t) => [t.name, t] as const))('%s runner', (_name, target) => {
  it('keeps its cache: whole prefill = prefill in two pieces = prefill + decode steps; reset starts anew at any position', async () => {
    const model = await loadModel(join(REPO, 'fixtures', 'llama32-tiny'));
    const built = await buildForTarget(model, { target: target.name, quant: NO_QUANT, fuse: true, targetOptions: {}, recordedOptions: {} });
    const bound = target.bounds.f32.golden?.maxAbs ?? 1e-3;
    const { runner, cleanup } = await runnerFor(built);
    const ref: ModelRunner = referenceRunner(model.graph, model.checkpoint);
    try {
      const V = runner.vocabSize;
      const whole = await runCase(runner, IDS);
      expect(whole.length).toBe(IDS.length * V);
      expect(maxAbsError(await runCase(ref, IDS), whole)).toBeLessThanOrEqual(bound);

      runner.reset();
      const first = await runner.prefill(IDS.slice(0, 6));
      const second = await runner.prefill(IDS.slice(6));
      expect(maxAbsError(rows(whole, V, 0, 6), first)).toBeLessThanOrEqual(bound);
      expect(maxAbsError(rows(whole, V, 6, IDS.length), second)).toBeLessThanOrEqual(bound);

      runner.reset();
      await runner.prefill(IDS.slice(0, 3));
      for (let i = 3; i < IDS.length; i++) {
        const step = await runner.decode(IDS[i]);
        expect(step.length).toBe(V);
        expect(maxAbsError(rows(whole, V, i, i + 1), step), `decode step ${i}`).toBeLessThanOrEqual(bound);
      }

      // A case from an empty cache at a far position, then tokens placed further on after a gap:
      // positions are the caller's, the cache is the runner's.
      const far = await runCase(runner, IDS.slice(0, 4), 4000);
      const gap = await runner.prefill(IDS.slice(4), 5000);
      await runCase(ref, IDS.slice(0, 4), 4000);
      const refGap = await ref.prefill(IDS.slice(4), 5000);
      expect(maxAbsError(await runCase(ref, IDS.slice(0, 4), 4000), far)).toBeLessThanOrEqual(bound);
      expect(maxAbsError(refGap, gap)).toBeLessThanOrEqual(bound);
      // ...and the gap reached the model (RoPE is relative: only the distance changes the result).
      expect(maxAbsError(rows(whole, V, 4, IDS.length), gap)).toBeGreaterThan(10 * bound);
    } finally {
      await cleanup();
      await ref.dispose();
    }
  });
});

describe('reference runner', () => {
  it('reset() forgets the cache: the same case twice gives identical logits', async () => {
    const model = await loadModel(join(REPO, 'fixtures', 'stories260K'));
    const r = referenceRunner(model.graph, model.checkpoint);
    const a = await runCase(r, IDS, 7);
    await r.prefill([3, 4, 5]);
    const b = await runCase(r, IDS, 7);
    expect(Buffer.compare(Buffer.from(a.buffer), Buffer.from(b.buffer))).toBe(0);
  });
});
