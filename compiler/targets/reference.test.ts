// The reference target's int8-activation mode end to end: `--act-quant int8` reaches every
// quantized matmul (plain linear and the fused rms_norm_linear) and nothing else.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, goldenDir, runCli } from '../../test/helpers.js';
import { buildForTarget, loadModel } from '../compile.js';
import { linearInt8Act, rmsNorm } from '../interpreter/kernels.js';
import { ReferenceModel } from '../interpreter/interpreter.js';
import { makeQuantConfig, NO_QUANT } from '../passes/quant-config.js';
import { referenceRunner, runCase } from './runner.js';

const REPO = new URL('../../', import.meta.url).pathname;
const IDS = [1, 300, 42, 17, 255, 9];

describe('reference --act-quant int8', () => {
  it('verify passes the int4 sanity bounds and reports the mode; the logits differ from float activations', async () => {
    const args = ['verify', fixture('stories260K'), '--golden', goldenDir('stories260K'), '--quant', 'int4', '--quant-method', 'rtn', '--json'];
    const q8 = await runCli(...args, '--act-quant', 'int8');
    const f = await runCli(...args);
    expect(q8.code).toBe(0);
    const a = JSON.parse(q8.out) as { pass: boolean; target: string; cases: Record<string, { kl: number; max_abs_err: number }> };
    const b = JSON.parse(f.out) as typeof a;
    expect(a.pass).toBe(true);
    expect(a.target).toBe('reference (int8 activations)');
    expect(b.target).toBe('reference');
    expect(a.cases.long.max_abs_err).not.toBe(b.cases.long.max_abs_err);
  });

  it('every quantized matmul, fused rms_norm_linear included, runs the int8-activation kernel', async () => {
    const model = await loadModel(join(REPO, 'fixtures', 'llama32-tiny'));
    const quant = makeQuantConfig({ quant: 'int8', quantEmbeddings: 'int8' });
    const { graph } = await buildForTarget(model, { target: 'reference', quant, fuse: true, targetOptions: {}, recordedOptions: {} });
    const head = graph.nodes.find((n) => n.op === 'rms_norm_linear');
    if (!head || head.op !== 'rms_norm_linear') throw new Error('expected a fused lm_head');
    const m = new ReferenceModel(graph, model.checkpoint, { actQuant: 'int8' });
    let seen = false;
    m.forward(Int32Array.from(IDS), Int32Array.from(IDS, (_, i) => i), m.emptyCache(), (node, ins, outs) => {
      if (node !== head) return;
      const w = ins[2].quantized;
      if (!w) throw new Error('lm_head weight is not quantized');
      const [S, H] = ins[0].shape;
      const x = rmsNorm(ins[0].data as Float32Array, ins[1].data as Float32Array, S, H, head.attrs.eps);
      expect(Buffer.compare(Buffer.from((outs[0].data as Float32Array).buffer), Buffer.from(linearInt8Act(x, S, w).buffer))).toBe(0);
      seen = true;
    });
    expect(seen).toBe(true);
  });

  it('leaves a graph without quantized weights exactly as it was', async () => {
    const model = await loadModel(join(REPO, 'fixtures', 'stories260K'));
    const { graph } = await buildForTarget(model, { target: 'reference', quant: NO_QUANT, fuse: true, targetOptions: {}, recordedOptions: {} });
    const a = await runCase(referenceRunner(graph, model.checkpoint, { actQuant: 'int8' }), IDS);
    const b = await runCase(referenceRunner(graph, model.checkpoint), IDS);
    expect(Buffer.compare(Buffer.from(a.buffer), Buffer.from(b.buffer))).toBe(0);
  });
});
