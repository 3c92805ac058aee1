// The reference interpreter against transformers' golden outputs, on every shipped fixture,
// including the hidden states and the RoPE table, plus perplexity on stories260K.

import { describe, expect, it } from 'vitest';
import { openCheckpoint } from '../compiler/checkpoint/checkpoint.js';
import { importLlama } from '../compiler/frontend/llama.js';
import { ropeInvFreq } from '../compiler/frontend/rope.js';
import { KvSession, ReferenceModel, type RtTensor } from '../compiler/interpreter/interpreter.js';
import { loadGolden } from '../compiler/verify/golden.js';
import { maxAbsError } from '../compiler/verify/metrics.js';
import { EVAL_IDS, FIXTURES, fixture, goldenDir, runCli } from './helpers.js';

/** float32 forward vs transformers' float64: measured 6e-5 at most on logits, hidden states less. */
const HIDDEN_TOL = 1e-4;

describe.each(FIXTURES)('%s', (name) => {
  it('verify passes the float32 thresholds (all cases and the greedy decode)', async () => {
    const r = await runCli('verify', fixture(name), '--golden', goldenDir(name), '--json');
    expect(r.err).toBe('');
    const report = JSON.parse(r.out);
    expect(report.pass).toBe(true);
    expect(r.code).toBe(0);
    expect(Object.keys(report.cases).sort()).toEqual(['far', 'long', 'short', 'single']);
    for (const c of Object.values(report.cases) as Array<{ max_abs_err: number; top1: number }>) {
      expect(c.max_abs_err).toBeLessThan(1e-4);
      expect(c.top1).toBe(1);
    }
    expect(report.greedy.match).toBe(1);
  });

  it('RoPE inverse frequencies are bit-identical to transformers', () => {
    const ck = openCheckpoint(fixture(name));
    const golden = loadGolden(goldenDir(name));
    const inv = ropeInvFreq(ck.config.headDim, ck.config.ropeTheta, ck.config.ropeScaling);
    expect(Array.from(inv)).toEqual(Array.from(golden.tensor('inv_freq') ?? []));
  });

  it('embeddings, every layer output and the final norm match the golden hidden states', () => {
    const ck = openCheckpoint(fixture(name));
    const golden = loadGolden(goldenDir(name));
    const model = new ReferenceModel(importLlama(ck), ck);
    const short = golden.cases.find((c) => c.name === 'short');
    if (!short) throw new Error('no short case');
    const seen = new Map<string, RtTensor>();
    new KvSession(model).prefill(short.inputIds, 0, (node, _ins, outs) => outs.forEach((o, i) => seen.set(node.outputs[i].name, o)));
    const L = ck.config.numLayers;
    const H = ck.config.hiddenSize;
    const T = short.inputIds.length;
    const get = (n: string) => seen.get(n)?.data as Float32Array;
    expect(maxAbsError(golden.tensor('short.embeddings') as Float32Array, get('embeddings'))).toBeLessThan(HIDDEN_TOL);
    const layers = golden.tensor('short.layer_outputs') as Float32Array;
    for (let l = 0; l < L; l++) {
      expect(maxAbsError(layers.subarray(l * T * H, (l + 1) * T * H), get(`layers.${l}.output`))).toBeLessThan(HIDDEN_TOL);
    }
    expect(maxAbsError(golden.tensor('short.final_norm') as Float32Array, get('final_norm'))).toBeLessThan(HIDDEN_TOL);
  });
});

describe('perplexity', () => {
  it('stories260K matches transformers to 1e-4', async () => {
    const r = await runCli('eval', fixture('stories260K'), '--ids', EVAL_IDS, '--json');
    expect(r.code).toBe(0);
    const res = JSON.parse(r.out);
    const golden = loadGolden(goldenDir('stories260K')).perplexity;
    expect(res.tokens).toBe(golden?.tokens);
    expect(Math.abs(res.mean_nll - (golden?.meanNll ?? NaN))).toBeLessThan(1e-4);
  });

  it('--max-len truncates every sequence', async () => {
    const r = await runCli('eval', fixture('stories260K'), '--ids', EVAL_IDS, '--max-len', '16', '--json');
    expect(JSON.parse(r.out).tokens).toBe(6 * 15);
  });
});

describe('decode through the KV cache equals one long prefill', () => {
  it.each(FIXTURES)('%s', (name) => {
    const ck = openCheckpoint(fixture(name));
    const model = new ReferenceModel(importLlama(ck), ck);
    const ids = [1, 5, 9, 13, 17, 21, 25, 29];
    const V = ck.config.vocabSize;
    const whole = new KvSession(model).prefill(ids, 3);
    const s = new KvSession(model);
    s.prefill(ids.slice(0, 5), 3);
    for (let i = 5; i < ids.length; i++) {
      const row = s.step(ids[i]);
      expect(maxAbsError(whole.subarray(i * V, (i + 1) * V), row)).toBeLessThan(1e-5);
    }
  });
});
