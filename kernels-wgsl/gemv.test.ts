import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QuantScheme } from '../compiler/ir/quantized.js';
import { openGpu, readF32, run, storage, type Gpu } from './gpu.js';
import { gemv, uploadMatrix, variantsFor } from './kernels.js';
import { packFloat, packQuantized } from './pack.js';
import { dequantized, randomF32, randomQuantized, refGemv, relMaxErr, rng } from './reference.js';

// f32 accumulation in a different order than the reference: ~1e-6 relative; the f16-decode variants
// round each dequantized weight to f16 (2^-11 relative), which random sums keep near 1e-3.
const TOL_F32 = 2e-5;
const TOL_F16_DECODE = 3e-3;

let gpu: Gpu | null = null;
beforeAll(async () => {
  gpu = await openGpu();
});
afterAll(() => gpu?.destroy());

function need(): Gpu {
  if (!gpu) throw new Error('no WebGPU adapter: run .ci/install-wgsl.sh (Mesa 25 lavapipe)');
  return gpu;
}

const schemes: { name: string; s: QuantScheme }[] = [];
for (const g of [32, 64, 128]) {
  for (const symmetric of [true, false]) {
    for (const scaleDtype of ['f16', 'f32'] as const) {
      schemes.push({ name: `int4 g${g} ${symmetric ? 'sym' : 'asym'} ${scaleDtype}`, s: { bits: 4, groupSize: g, symmetric, scaleDtype, method: 'rtn' } });
    }
  }
}
schemes.push({ name: 'int8 f32', s: { bits: 8, groupSize: 0, symmetric: true, scaleDtype: 'f32', method: 'rtn' } });
schemes.push({ name: 'int8 f16', s: { bits: 8, groupSize: 0, symmetric: true, scaleDtype: 'f16', method: 'rtn' } });

describe('gemv', () => {
  it('offers the fallback and, on lavapipe, the subgroup and f16 variants', () => {
    const vs = variantsFor(need(), 'gemv');
    expect(vs).toContain('base');
    if (need().features.subgroups) expect(vs).toContain('sg');
  });

  for (const { name, s } of schemes) {
    it(`${name}: every variant matches the dequantized reference on ragged sizes`, async () => {
      const g = need();
      const r = rng(s.groupSize * 7 + (s.symmetric ? 1 : 2) + (s.scaleDtype === 'f16' ? 10 : 20) + s.bits);
      const N = 67;
      const K = s.bits === 4 ? 3 * s.groupSize + 13 : 203; // ragged: last group / chunk partial
      const q = randomQuantized(r, N, K, s);
      const x = randomF32(r, K);
      const want = refGemv(dequantized(q), N, K, x);
      // a tiny binding limit forces several row shards
      const m = uploadMatrix(g, packQuantized(q, { maxBindingBytes: 2048 }));
      expect(m.shards.length).toBeGreaterThan(1);
      const xb = storage(g, x);
      for (const variant of variantsFor(g, 'gemv')) {
        // staged x (default) and direct x loads; two geometries
        for (const [wg, rows, stageX] of [[64, 4, true], [32, 1, false]] as const) {
          const yb = storage(g, N * 4);
          await run(g, gemv(g, m, xb, yb, { variant, wg, rows, stageX }));
          const got = await readF32(g, yb, N);
          const tol = variant.includes('f16') ? TOL_F16_DECODE : TOL_F32;
          expect(relMaxErr(got, want), `${variant} wg${wg} rows${rows} stage ${stageX}`).toBeLessThan(tol);
          yb.destroy();
        }
      }
      m.destroy();
      xb.destroy();
    });
  }

  for (const kind of ['f16', 'f32'] as const) {
    it(`${kind} weights: every variant matches`, async () => {
      const g = need();
      const r = rng(kind === 'f16' ? 5 : 6);
      const N = 45;
      const K = 157;
      const w = randomF32(r, N * K, 0.1);
      const x = randomF32(r, K);
      const m = uploadMatrix(g, packFloat(w, N, K, kind, { maxBindingBytes: g.maxBindingBytes }));
      // reference on the weights as stored (f16-rounded for f16)
      const stored = new Float32Array(w.length);
      for (let i = 0; i < w.length; i++) stored[i] = kind === 'f16' ? Math.fround(roundF16(w[i])) : w[i];
      const want = refGemv(stored, N, K, x);
      const xb = storage(g, x);
      for (const variant of variantsFor(g, 'gemv')) {
        for (const stageX of [true, false]) {
          const yb = storage(g, N * 4);
          await run(g, gemv(g, m, xb, yb, { variant, stageX }));
          expect(relMaxErr(await readF32(g, yb, N), want), `${variant} stage ${stageX}`).toBeLessThan(TOL_F32);
          yb.destroy();
        }
      }
      m.destroy();
      xb.destroy();
    });
  }
});

import { roundToF16 as roundF16 } from '../compiler/ir/half.js';
