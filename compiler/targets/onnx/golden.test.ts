// f32 artifacts against transformers' goldens, every fixture, both op flavours: prefill cases
// (far = positions 100000+) and teacher-forced greedy decode through the KV cache inputs/outputs.

import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadGolden } from '../../verify/golden.js';
import { FLOAT32_THRESHOLDS, formatVerifyReport, verifyAgainstGolden } from '../../verify/verify.js';
import { onnxTarget } from './index.js';
import { compileContext, openFixture, REPO, tempDir } from './onnx.test-helpers.js';

const FIXTURES = ['llama32-tiny', 'llama32-tiny-untied', 'stories260K'];

describe.each(['ort', 'standard'])('onnx %s ops, f32', (ops) => {
  it.each(FIXTURES)('%s passes the float32 golden thresholds', async (fixture) => {
    const { ck, graph } = openFixture(fixture);
    const ctx = compileContext(ck, { onnxOps: ops });
    const dir = tempDir(`${fixture}-${ops}`);
    try {
      await onnxTarget.emit(graph, dir, ctx);
      const runner = await onnxTarget.load(dir, graph, ctx);
      const report = await verifyAgainstGolden(runner, loadGolden(join(REPO, 'golden', fixture)), 'f32', FLOAT32_THRESHOLDS);
      await runner.dispose();
      if (!report.pass || process.env.LLAMAC_TEST_VERBOSE) console.log(`${fixture} ${ops}\n${formatVerifyReport(report)}`);
      expect(report.pass).toBe(true);
      expect(report.greedy?.match).toBe(1);
      expect(Object.keys(report.cases)).toContain('far');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
