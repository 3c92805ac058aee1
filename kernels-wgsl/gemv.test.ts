import { describe, expect, it } from 'vitest';
import type { QuantScheme } from '../compiler/ir/quantized.js';
import { openGpu, readF32, run, storage, type Gpu } from './gpu.js';
import { useGpu } from './test-gpu.js';
import { defaultVariant, gemv, uploadMatrix, variantsFor, type MatVariant } from './kernels.js';
import { packFloat, packQuantized } from './pack.js';
import { dequantized, randomF32, randomQuantized, refGemv, relMaxErr, rng } from './reference.js';

// f32 accumulation in a different order than the reference: ~1e-6 relative; the f16-decode variants
// round each dequantized weight to f16 (2^-11 relative), which random sums keep near 1e-3.
const TOL_F32 = 2e-5;
const TOL_F16_DECODE = 3e-3;

const need = useGpu();

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
    if (need().features.f16) expect(vs).toContain('f16');
  });

  it('falls back when the adapter lacks subgroups and shader-f16', async () => {
    const g = await openGpu({ disable: ['subgroups', 'shader-f16'] });
    if (!g) throw new Error('no adapter');
    try {
      expect(variantsFor(g, 'gemv')).toEqual(['base']);
      expect(defaultVariant(g, 'gemv')).toBe('base');
      const r = rng(99);
      const q = randomQuantized(r, 9, 64, { bits: 4, groupSize: 32, symmetric: true, scaleDtype: 'f16', method: 'rtn' });
      const x = randomF32(r, 64);
      const m = uploadMatrix(g, packQuantized(q, { maxBindingBytes: g.maxBindingBytes }));
      const yb = storage(g, 9 * 4);
      await run(g, gemv(g, m, storage(g, x), yb));
      expect(relMaxErr(await readF32(g, yb, 9), refGemv(dequantized(q), 9, 64, x))).toBeLessThan(TOL_F32);
    } finally {
      g.destroy();
    }
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
      // Each pipeline is an LLVM compile on lavapipe (seconds, cold), so the grid is lean: every
      // scheme on the default variant and geometry; the other variants on int4 g32 sym f16; both
      // x paths and both int->float paths with other geometries on one int4 and one int8 scheme.
      const configs: { variant: MatVariant; wg?: number; rows?: number; stageX?: boolean; magic?: boolean; unroll?: 1 | 2 }[] = [{ variant: defaultVariant(g, 'gemv') }];
      // the whole-K-staged row-group variant on every scheme; with other geometries (two chunks per
      // trip, 8 rows, more row groups than subgroups, one subgroup) on three of them
      if (variantsFor(g, 'gemv').includes('rg')) {
        configs.push({ variant: 'rg' });
        if (name === 'int4 g32 sym f16' || name === 'int4 g128 asym f32' || name === 'int8 f16') {
          configs.push({ variant: 'rg', wg: 16, rows: 3, unroll: 2 }, { variant: 'rg', wg: 8, rows: 8, magic: false }, { variant: 'rg', wg: 64, rows: 1, unroll: 2 });
        }
      }
      if (name === 'int4 g32 sym f16') {
        for (const v of variantsFor(g, 'gemv')) if (v !== configs[0].variant && v !== 'rg') configs.push({ variant: v });
        // 16 rows per workgroup on shards of 32 rows (every unrolled row slot holds a distinct row),
        // more rows than threads, both x paths and both reductions
        configs.push({ variant: defaultVariant(g, 'gemv'), wg: 8, rows: 16, stageX: true }, { variant: 'base', wg: 16, rows: 16, stageX: false });
      }
      if (name === 'int4 g128 asym f32' || name === 'int8 f16') {
        // both x paths explicitly (the default differs between CPU and GPU adapters)
        // and the plain int->float conversion instead of the 2^23 trick
        configs.push({ variant: defaultVariant(g, 'gemv'), wg: 32, rows: 1, stageX: false, magic: false }, { variant: defaultVariant(g, 'gemv'), wg: 32, rows: 2, stageX: true });
        // staged x over several K tiles (chunksPerRow > WG, ragged last tile), weights prefetched
        // per tile before the x barrier, on both reductions
        configs.push({ variant: 'base', wg: 4, rows: 3, stageX: true }, { variant: defaultVariant(g, 'gemv'), wg: 8, rows: 3, stageX: true });
        // 16 rows per workgroup (MAX_ROWS) on shards of 8-9 rows (ragged blocks), both x paths
        configs.push({ variant: defaultVariant(g, 'gemv'), wg: 16, rows: 16, stageX: true }, { variant: 'base', wg: 8, rows: 16, stageX: false });
      }
      for (const c of configs) {
        const yb = storage(g, N * 4);
        await run(g, gemv(g, m, xb, yb, c));
        const got = await readF32(g, yb, N);
        const tol = c.variant.includes('f16') ? TOL_F16_DECODE : TOL_F32;
        expect(relMaxErr(got, want), JSON.stringify(c)).toBeLessThan(tol);
        yb.destroy();
      }
      m.destroy();
      xb.destroy();
    });
  }

  it('the rg variant refuses a K whose x does not fit workgroup memory, naming the sizes', () => {
    const g = need();
    if (!variantsFor(g, 'gemv').includes('rg')) return;
    const K = (g.maxWorkgroupStorage / 4) * 2; // f32 x of K values is twice the limit
    const m = uploadMatrix(g, packFloat(new Float32Array(4 * K), 4, K, 'f32', { maxBindingBytes: g.maxBindingBytes }));
    const xb = storage(g, K * 4);
    expect(() => gemv(g, m, xb, storage(g, 16), { variant: 'rg' })).toThrow(new RegExp(`rg stages all of x: K = ${K} \\(f32\\) needs ${K * 4} B of workgroup memory, the device has ${g.maxWorkgroupStorage}`));
    const small = uploadMatrix(g, packFloat(new Float32Array(4 * 8), 4, 8, 'f32', { maxBindingBytes: g.maxBindingBytes }));
    expect(() => gemv(g, small, xb, storage(g, 16), { variant: 'rg', rows: 9 })).toThrow(/1\.\.8 rows per row group, not 9/);
    small.destroy();
    m.destroy();
    xb.destroy();
  });

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
        const yb = storage(g, N * 4);
        await run(g, gemv(g, m, xb, yb, { variant }));
        expect(relMaxErr(await readF32(g, yb, N), want), variant).toBeLessThan(TOL_F32);
        yb.destroy();
      }
      m.destroy();
      xb.destroy();
    });
  }
});

import { roundToF16 as roundF16 } from '../compiler/ir/half.js';
