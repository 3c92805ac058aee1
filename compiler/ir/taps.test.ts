// Taps: values exposed as extra graph outputs come back from every target that returns taps, equal
// to what the interpreter computes for those values, and leave logits and the cache unchanged.

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildForTarget, loadModel } from '../compile.js';
import { ReferenceModel, type RtTensor } from '../interpreter/interpreter.js';
import { NO_QUANT } from '../passes/quant-config.js';
import { TARGETS } from '../targets/index.js';
import { runCase } from '../targets/runner.js';
import { maxAbsError } from '../verify/metrics.js';
import { exposeValues, layerOutputNames, valuesByName } from './taps.js';

const REPO = new URL('../../', import.meta.url).pathname;
const IDS = [1, 419, 375, 491, 122, 392, 267];

describe.each(TARGETS.map((t) => [t.name, t] as const))('%s taps', (_name, target) => {
  it('returns each layer output as the interpreter computes it, logits unchanged', async () => {
    const model = await loadModel(join(REPO, 'fixtures', 'llama32-tiny-untied'));
    const built = await buildForTarget(model, { target: target.name, quant: NO_QUANT, fuse: true, targetOptions: {}, recordedOptions: {} });
    const values = valuesByName(built.graph, layerOutputNames(built.graph));
    expect(values.every((v) => v !== null)).toBe(true);
    const tapped = exposeValues(built.graph, values.filter((v) => v !== null));
    expect(tapped.outputs.length).toBe(built.graph.outputs.length + built.graph.info.numLayers);

    // What the interpreter computes for those values, seen through its observer (not through taps).
    const seen = new Map<number, RtTensor>();
    const ref = new ReferenceModel(built.graph, model.checkpoint);
    const pos = Int32Array.from(IDS, (_, i) => i);
    const plain = ref.forward(Int32Array.from(IDS), pos, ref.emptyCache(), (node, _ins, outs) => node.outputs.forEach((o, i) => seen.set(o.id, outs[i])));

    const dir = mkdtempSync(join(tmpdir(), 'llamac-taps-'));
    try {
      // A target whose runner returns no taps (neon, webgpu today) is never given a tapped graph:
      // llamac build asks the plain artifact first (build/verify-cell.ts) and reports no per-layer plot.
      const plainDir = join(dir, 'plain');
      mkdirSync(plainDir);
      await target.emit(built.graph, plainDir, built.ctx);
      const plainRunner = await target.load(plainDir, built.graph, built.ctx);
      const supportsTaps = typeof plainRunner.taps === 'function';
      await plainRunner.dispose();
      if (!supportsTaps) return;
      const tappedDir = join(dir, 'tapped');
      mkdirSync(tappedDir);
      await target.emit(tapped, tappedDir, built.ctx);
      const runner = await target.load(tappedDir, tapped, built.ctx);
      try {
        const logits = await runCase(runner, IDS);
        expect(maxAbsError(plain.logits, logits)).toBeLessThan(1e-4);
        const taps = runner.taps?.() ?? [];
        expect(taps).toHaveLength(values.length);
        values.forEach((v, i) => expect(maxAbsError(seen.get(v!.id)!.data as Float32Array, taps[i])).toBeLessThan(1e-4));
      } finally {
        await runner.dispose();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
