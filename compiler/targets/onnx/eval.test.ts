// `llamac eval --target onnx --quant int4` must give the reference interpreter's int4 perplexity.

import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTokenIds, perplexity } from '../../eval/perplexity.js';
import { referenceRunner } from '../runner.js';
import { onnxTarget } from './index.js';
import { PPL_TOL } from './tolerances.js';
import { compileContext, openFixture, quantizeGraph, REPO, tempDir, testQuantConfig } from './onnx.test-helpers.js';

describe('onnx eval', () => {
  it.each(['ort', 'standard'])('stories260K int4 perplexity (%s ops) equals the interpreter int4 within 1e-3', async (ops) => {
    const { ck, graph } = openFixture('stories260K');
    const qgraph = await quantizeGraph(graph, ck, 'int4');
    const stories = loadTokenIds(join(REPO, 'fixtures/stories260K-eval/tinystories-valid-ids.json'));
    const maxLen = graph.info.maxPositions;
    const dir = tempDir(`eval-${ops}`);
    try {
      const ctx = compileContext(ck, { onnxOps: ops }, testQuantConfig('int4'));
      await onnxTarget.emit(qgraph, dir, ctx);
      const runner = await onnxTarget.load(dir, qgraph, ctx);
      const got = await perplexity(runner, stories, maxLen);
      await runner.dispose();
      const ref = await perplexity(referenceRunner(qgraph, ck), stories, maxLen);
      if (process.env.LLAMAC_TEST_VERBOSE) console.log(`eval ${ops}: onnx ppl ${got.ppl} reference ppl ${ref.ppl} over ${ref.tokens} tokens`);
      expect(got.tokens).toBe(ref.tokens);
      expect(Math.abs(got.ppl - ref.ppl)).toBeLessThanOrEqual(PPL_TOL);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
