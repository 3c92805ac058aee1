import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { QuantScheme } from '../compiler/ir/quantized.js';
import { openGpu, readBytes, readF32, repoRoot, run, storage, type Gpu } from './gpu.js';
import { useGpu } from './test-gpu.js';
import {
  attentionDecode,
  attentionDecodeQ8,
  decodeScratch,
  gemvQ8,
  q8Vector,
  quantizeX,
  rmsnorm,
  rmsnormQ8,
  swiglu,
  swigluQ8,
  uploadMatrix,
  variantsFor,
  type GemvQ8Options,
  type Q8Vector,
} from './kernels.js';
import { packFloat, packQuantized } from './pack.js';
import { dequantized, dequantizedX, randomF32, randomQuantized, refAttention, refGemv, refQuantizeX, refRmsNorm, refSwiglu, relMaxErr, rng } from './reference.js';

// Against the reference on the SAME int8 activations the kernel read back: only f32 rounding of
// the block sums differs (integer dot products are exact).
const TOL_SAME_X = 2e-5;
// Against the float32 GEMV: x rounded to 1/254 of its block's max |x| (random data: ~3e-3).
const TOL_FLOAT_X = 2e-2;

const need = useGpu();

interface Q8Host {
  q: Int8Array;
  d: Float32Array;
  sum: Float32Array;
}

/** x quantized on the GPU, read back as (q, d, sum). */
async function quantizedOnGpu(g: Gpu, x: Float32Array): Promise<Q8Host> {
  const v = q8Vector(g, x.length);
  const xb = storage(g, x);
  await run(g, [quantizeX(g, xb, v)]);
  const out = await readQ8(g, v);
  v.destroy();
  xb.destroy();
  return out;
}

async function readQ8(g: Gpu, v: Q8Vector): Promise<Q8Host> {
  const q = new Int8Array(await readBytes(g, v.q, v.blocks * 32));
  const dd = new Float32Array(await readBytes(g, v.d, v.blocks * 8));
  const d = new Float32Array(v.blocks);
  const sum = new Float32Array(v.blocks);
  for (let b = 0; b < v.blocks; b++) [d[b], sum[b]] = [dd[2 * b], dd[2 * b + 1]];
  return { q, d, sum };
}

describe('int8 activations (quant_x + gemv_q8)', () => {
  it('the adapter offers packed 4x8-bit dot products (Dawn always does, natively or polyfilled)', () => {
    expect(need().features.dot4).toBe(true);
    expect(variantsFor(need(), 'gemv_q8')).toEqual(need().features.subgroups ? ['base', 'sg'] : ['base']);
  });

  it('Dawn hands the driver native packed dot products (SPIR-V OpSDot), not a polyfill', () => {
    // tools/dump-shader prints Tint's SPIR-V (Dawn's dump_shaders toggle writes it from native code)
    const tool = join(repoRoot(), 'dist', 'kernels-wgsl', 'tools', 'dump-shader.js');
    if (!existsSync(tool)) throw new Error(`${tool} missing: run npm run build (npm test does)`);
    const r = spawnSync(process.execPath, [tool, 'gemv_q8_sg.wgsl', 'KIND=0', 'WG=64', 'GROUPS=2', 'ROWS=4', 'UNROLL=2'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('OpCapability DotProductInput4x8BitPacked');
    expect(r.stdout.match(/OpSDot /g)?.length ?? 0).toBeGreaterThanOrEqual(8);
    expect(r.stdout).toContain('OpGroupNonUniformFAdd');
    const bad = spawnSync(process.execPath, [tool, 'gemv_q8_sg.wgsl', 'ROWS=x'], { encoding: 'utf8', timeout: 60_000 });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("override ROWS needs a number, true or false, not 'x'");
  });

  it('quant_x: per-block int8 with d = max|x| / 127, ties to even, zero padding, exact sums', async () => {
    const g = need();
    const r = rng(41);
    const K = 32 * 9 + 11; // ragged last block
    const x = randomF32(r, K, 3);
    x.fill(0, 64, 96); // an all-zero block: d = 0, q = 0
    x[100] = -7.5; // block max is negative
    // max 127, so 127 / max = 1 and these are exact halves: they must round to even
    for (let k = 128; k < 159; k++) x[k] = k - 144 + 0.5;
    x[159] = 127;
    const want = refQuantizeX(x);
    const got = await quantizedOnGpu(g, x);
    for (let b = 0; b < want.d.length; b++) {
      expect(Math.abs(got.d[b] - want.d[b]), `d of block ${b}`).toBeLessThanOrEqual(Math.abs(want.d[b]) * 2 ** -22);
      let s = 0;
      for (let k = b * 32; k < b * 32 + 32; k++) s += got.q[k];
      expect(got.sum[b], `sum of block ${b}`).toBe(s);
    }
    let ties = 0;
    for (let k = 0; k < want.q.length; k++) {
      const exactHalves = k >= 128 && k < 160;
      if (!exactHalves && want.ties[k] && Math.abs(got.q[k] - want.q[k]) <= 1) {
        ties += got.q[k] === want.q[k] ? 0 : 1;
        continue;
      }
      expect(got.q[k], `q[${k}] (x ${x[k]})`).toBe(want.q[k]);
    }
    expect(ties).toBeLessThan(4);
    expect(Array.from(got.q.subarray(64, 96)).every((v) => v === 0)).toBe(true);
    expect(Array.from(got.q.subarray(K)).every((v) => v === 0)).toBe(true);
    expect(Math.max(...Array.from(got.q.subarray(96, 128)).map(Math.abs))).toBe(127);
    expect(Array.from(got.q.subarray(140, 144))).toEqual([-4, -2, -2, 0]); // -3.5 -2.5 -1.5 -0.5
  });

  const schemes: { name: string; s: QuantScheme }[] = [];
  for (const g of [32, 64, 128]) {
    for (const symmetric of [true, false]) {
      schemes.push({ name: `int4 g${g} ${symmetric ? 'sym' : 'asym'} ${g === 64 ? 'f32' : 'f16'}`, s: { bits: 4, groupSize: g, symmetric, scaleDtype: g === 64 ? 'f32' : 'f16', method: 'rtn' } });
    }
  }
  schemes.push({ name: 'int8 f16', s: { bits: 8, groupSize: 0, symmetric: true, scaleDtype: 'f16', method: 'rtn' } });
  schemes.push({ name: 'int8 f32', s: { bits: 8, groupSize: 0, symmetric: true, scaleDtype: 'f32', method: 'rtn' } });

  for (const { name, s } of schemes) {
    it(`${name}: matches the reference on the kernel's own int8 x, and the float GEMV closely (ragged, sharded)`, async () => {
      const g = need();
      const r = rng(s.groupSize * 3 + (s.symmetric ? 1 : 2) + s.bits);
      const N = 61;
      const K = s.bits === 4 ? 3 * s.groupSize + 13 : 203;
      const q = randomQuantized(r, N, K, s);
      const x = randomF32(r, K);
      const m = uploadMatrix(g, packQuantized(q, { maxBindingBytes: 2048 }));
      expect(m.shards.length).toBeGreaterThan(1);
      const xg = await quantizedOnGpu(g, x);
      const w = dequantized(q);
      const wantSameX = refGemv(w, N, K, dequantizedX(xg.q, xg.d, K));
      const wantFloat = refGemv(w, N, K, x);
      const xb = storage(g, x);
      const v = q8Vector(g, K);
      // default geometry, one thread per row group, more rows than threads, a row group per
      // workgroup, ragged row blocks (3 rows), 8 rows with 2 lanes
      // (the default is the subgroup variant on lavapipe: every scheme runs both)
      const configs: GemvQ8Options[] = [{}, { variant: 'base' }, { variant: 'base', wg: 4, tpr: 1, rows: 2 }, { variant: 'base', wg: 8, tpr: 2, rows: 8 }];
      // the subgroup variant with more row groups than subgroups, 8 rows, one subgroup per workgroup
      configs.push({ variant: 'sg', wg: 64, rows: 3 }, { variant: 'sg', wg: 8, rows: 8 });
      configs.push({ variant: 'base', wg: 32, tpr: 32, rows: 3 }, { variant: 'base', wg: 64, tpr: 16, rows: 4 });
      // two chunks per loop trip (an odd number of chunks per lane leaves the second one invalid)
      configs.push({ variant: 'sg', wg: 16, rows: 2, unroll: 2 }, { variant: 'base', wg: 8, tpr: 4, rows: 3, unroll: 2 });
      const some = [...configs.slice(0, 4), { variant: 'sg', wg: 8, rows: 3, unroll: 2 } as const];
      for (const c of s.bits === 4 && s.groupSize === 32 && s.symmetric ? configs : some) {
        const yb = storage(g, N * 4);
        await run(g, [quantizeX(g, xb, v), ...gemvQ8(g, m, v, yb, c)]);
        const got = await readF32(g, yb, N);
        expect(relMaxErr(got, wantSameX), JSON.stringify(c)).toBeLessThan(TOL_SAME_X);
        expect(relMaxErr(got, wantFloat), JSON.stringify(c)).toBeLessThan(TOL_FLOAT_X);
        yb.destroy();
      }
      v.destroy();
      xb.destroy();
      m.destroy();
    });
  }

  // Two int8 encodings of (nearly) the same values: equal scales, and q equal except a rare +-1
  // where the two computations of a value round to different sides of a .5 boundary.
  function expectSameQ8(got: Q8Host, want: Q8Host, what: string): void {
    expect(got.d.length).toBe(want.d.length);
    for (let b = 0; b < want.d.length; b++) expect(Math.abs(got.d[b] - want.d[b]), `${what} d[${b}]`).toBeLessThanOrEqual(Math.abs(want.d[b]) * 2 ** -20);
    let flips = 0;
    for (let k = 0; k < want.q.length; k++) {
      expect(Math.abs(got.q[k] - want.q[k]), `${what} q[${k}]`).toBeLessThanOrEqual(1);
      flips += got.q[k] === want.q[k] ? 0 : 1;
    }
    expect(flips, what).toBeLessThanOrEqual(2);
    for (let b = 0; b < got.d.length; b++) {
      let s = 0;
      for (let k = b * 32; k < b * 32 + 32; k++) s += got.q[k];
      expect(got.sum[b], `${what} sum[${b}]`).toBe(s);
    }
  }

  it('rmsnorm_q8 and swiglu_q8 write what quant_x writes for rmsnorm / swiglu outputs (ragged n)', async () => {
    const g = need();
    const r = rng(77);
    const n = 32 * 70 + 5;
    const x = randomF32(r, n, 2);
    const weight = randomF32(r, n, 1.5);
    const gate = randomF32(r, n, 4);
    const up = randomF32(r, n, 2);
    const [xb, wb, gb, ub, yb] = [storage(g, x), storage(g, weight), storage(g, gate), storage(g, up), storage(g, n * 4)];
    const fused = q8Vector(g, n);
    const viaQuant = q8Vector(g, n);
    const cases: [string, () => ReturnType<typeof rmsnorm>, () => ReturnType<typeof rmsnorm>, Float32Array][] = [
      ['rmsnorm', () => rmsnorm(g, xb, wb, yb, 1, n, 1e-5), () => rmsnormQ8(g, xb, wb, fused, 1e-5), refRmsNorm(x, 1, n, weight, 1e-5)],
      ['swiglu', () => swiglu(g, gb, ub, yb, n), () => swigluQ8(g, gb, ub, fused), refSwiglu(gate, up)],
    ];
    for (const [what, unfused, fusedOp, ref] of cases) {
      await run(g, [unfused(), quantizeX(g, yb, viaQuant), fusedOp()]);
      const got = await readQ8(g, fused);
      expectSameQ8(got, await readQ8(g, viaQuant), `${what}: fused vs quant_x`);
      // and against the float reference: within one int8 step of the exact values
      const back = dequantizedX(got.q, got.d, n);
      for (let k = 0; k < n; k++) expect(Math.abs(back[k] - ref[k]), `${what} [${k}]`).toBeLessThanOrEqual(got.d[k >> 5] * 0.5001 + 1e-6);
    }
    [xb, wb, gb, ub, yb].forEach((b) => b.destroy());
    fused.destroy();
    viaQuant.destroy();
  });

  for (const [S, D, Hq] of [
    [77, 64, 8],
    [300, 128, 4],
  ]) {
    it(`attention decode to int8 (S ${S}, D ${D}) writes what attentionDecode + quant_x writes`, async () => {
      const g = need();
      const r = rng(S + D);
      const shape = { Hq, Hkv: 2, D, scale: 1 / Math.sqrt(D) };
      const [q, k, v] = [randomF32(r, Hq * D), randomF32(r, S * 2 * D), randomF32(r, S * 2 * D)];
      const [qb, kb, vb, out] = [storage(g, q), storage(g, k), storage(g, v), storage(g, Hq * D * 4)];
      const scratch = decodeScratch(g, shape);
      const fused = q8Vector(g, Hq * D);
      const viaQuant = q8Vector(g, Hq * D);
      await run(g, [...attentionDecode(g, shape, S, qb, kb, vb, out, scratch), quantizeX(g, out, viaQuant), ...attentionDecodeQ8(g, shape, S, qb, kb, vb, fused, scratch)]);
      const got = await readQ8(g, fused);
      expectSameQ8(got, await readQ8(g, viaQuant), 'attention: fused vs quant_x');
      const want = refAttention(q, k, v, 1, S, Hq, 2, D, shape.scale);
      const back = dequantizedX(got.q, got.d, Hq * D);
      for (let i = 0; i < Hq * D; i++) expect(Math.abs(back[i] - want[i]), `[${i}]`).toBeLessThanOrEqual(got.d[i >> 5] * 0.5001 + 1e-6);
      expect(() => attentionDecodeQ8(g, { ...shape, D: 48 }, S, qb, kb, vb, q8Vector(g, Hq * 48), scratch)).toThrow(/multiple of 32, not 48/);
      expect(() => attentionDecodeQ8(g, shape, S, qb, kb, vb, q8Vector(g, 32), scratch)).toThrow(/K = 32, not Hq \* D/);
      [qb, kb, vb, out].forEach((b) => b.destroy());
      [fused, viaQuant].forEach((b) => b.destroy());
    });
  }

  it('refuses float weights, a K mismatch and a bad geometry, naming them', () => {
    const g = need();
    const f = uploadMatrix(g, packFloat(new Float32Array(8 * 32), 8, 32, 'f32', { maxBindingBytes: g.maxBindingBytes }));
    const v = q8Vector(g, 32);
    const yb = storage(g, 32);
    expect(() => gemvQ8(g, f, v, yb)).toThrow(/int4 or int8 weights, not f32/);
    const q = uploadMatrix(g, packQuantized(randomQuantized(rng(1), 8, 64, { bits: 8, groupSize: 0, symmetric: true, scaleDtype: 'f16', method: 'rtn' }), { maxBindingBytes: g.maxBindingBytes }));
    expect(() => gemvQ8(g, q, v, yb)).toThrow(/K = 32, the matrix 64 columns/);
    const v64 = q8Vector(g, 64);
    expect(() => gemvQ8(g, q, v64, yb, { wg: 32, tpr: 12 })).toThrow(/tpr must divide wg/);
    [f, q, v, v64].forEach((o) => o.destroy());
    yb.destroy();
  });
});
