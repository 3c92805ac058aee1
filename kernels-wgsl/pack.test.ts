import { describe, expect, it } from 'vitest';
import { dequantize } from '../compiler/ir/quantized.js';
import { packQuantized, shardPlan } from './pack.js';
import { randomQuantized, rng } from './reference.js';

const MiB = 2 ** 20;

describe('pack', () => {
  it('int4 words put k = 8j+b in the low and k = 8j+4+b in the high nibble of byte b', () => {
    const r = rng(1);
    const q = randomQuantized(r, 3, 70, { bits: 4, groupSize: 32, symmetric: false, scaleDtype: 'f32', method: 'rtn' });
    const p = packQuantized(q, { maxBindingBytes: 2 ** 30 });
    const deq = dequantize(q);
    const wordsPerRow = p.chunksPerRow * 4;
    for (let n = 0; n < 3; n++) {
      for (let k = 0; k < 70; k++) {
        const word = p.shards[0].data[n * wordsPerRow + (k >> 3)];
        const kk = k & 7;
        const nib = (word >>> ((kk & 3) * 8 + (kk >> 2) * 4)) & 15;
        const g = n * q.nGroups + Math.floor(k / 32);
        const zero = (p.shards[0].zeros![g >> 3] >>> ((g & 7) * 4)) & 15;
        expect((nib - zero) * q.scales[g]).toBeCloseTo(deq[n * 70 + k], 6);
      }
    }
  });

  it('Llama 3.2 lm_head (128256 x 2048) under lavapipe 128 MiB bindings', () => {
    const limit = 128 * MiB;
    const rows = 128256;
    const plans = {
      int4: shardPlan('int4', rows, 2048, 32, true, limit),
      int8: shardPlan('int8', rows, 2048, 0, true, limit),
      f16: shardPlan('f16', rows, 2048, 0, false, limit),
      f32: shardPlan('f32', rows, 2048, 0, false, limit),
    };
    // int4 g32: 1024 B/row = 125.25 MiB, just fits one binding; the others split
    expect(plans.int4.length).toBe(1);
    expect(plans.int8.length).toBe(2);
    expect(plans.f16.length).toBe(4);
    expect(plans.f32.length).toBe(8);
    const bytesPerRow = { int4: 1024, int8: 2048, f16: 4096, f32: 8192 };
    for (const [k, plan] of Object.entries(plans) as [keyof typeof bytesPerRow, number[]][]) {
      expect(plan.reduce((a, b) => a + b, 0)).toBe(rows);
      for (const n of plan) expect(n * bytesPerRow[k]).toBeLessThanOrEqual(limit);
      for (const n of plan.slice(0, -1)) expect(n % 64).toBe(0);
    }
  });
});
