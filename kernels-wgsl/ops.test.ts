import { describe, expect, it } from 'vitest';
import { roundToF16 } from '../compiler/ir/half.js';
import type { QuantScheme } from '../compiler/ir/quantized.js';
import { openGpu, readF32, readU32, run, storage, type Gpu } from './gpu.js';
import { useGpu } from './test-gpu.js';
import { add, argmax, attentionDecode, attentionPrefill, decodeScratch, decodeSplits, embed, gemm, rmsnorm, rope, ropeQkv, softmax, swiglu, swigluRows, uploadMatrix, variantsFor } from './kernels.js';
import { packFloat, packQuantized, type PackedMatrix } from './pack.js';
import {
  dequantized,
  randomF32,
  randomQuantized,
  refAdd,
  refArgmax,
  refAttention,
  refGemm,
  refRmsNorm,
  refRope,
  refSoftmax,
  refSwiglu,
  relMaxErr,
  rng,
  ropeInvFreq,
} from './reference.js';

// f32 kernels vs a double-accumulating reference: reordering / exp / rsqrt ulps only.
const TOL_F32 = 2e-5;
// GEMM's f16 variant keeps the dequantized weight tile in f16 (2^-11 relative per weight).
const TOL_F16_TILE = 3e-3;
// RoPE angles pos * invFreq are formed in f32 on the GPU (1 ulp of ~100 rad ~ 1e-5) before cos/sin.
const TOL_ROPE = 1e-4;

const need = useGpu();

const big = { maxBindingBytes: 2 ** 31 };
/** Bytes of one packed row: shard limits in multiples of it force several shards. */
const rowBytes = (m: PackedMatrix): number => m.shards[0].data.byteLength / m.shards[0].rows;

const int4 = (groupSize: number, symmetric: boolean, scaleDtype: 'f16' | 'f32'): QuantScheme => ({ bits: 4, groupSize, symmetric, scaleDtype, method: 'rtn' });
const int8: QuantScheme = { bits: 8, groupSize: 0, symmetric: true, scaleDtype: 'f32', method: 'rtn' };

describe('gemm (prefill)', () => {
  const cases: { name: string; scheme: QuantScheme | 'f16' | 'f32' }[] = [
    { name: 'int4 g32 sym f16', scheme: int4(32, true, 'f16') },
    { name: 'int4 g128 asym f32', scheme: int4(128, false, 'f32') },
    { name: 'int8', scheme: int8 },
    { name: 'f16', scheme: 'f16' },
    { name: 'f32', scheme: 'f32' },
  ];
  for (const { name, scheme } of cases) {
    it(`${name}: every variant, ragged M/N/K, sharded`, async () => {
      const g = need();
      const r = rng(name.length * 31);
      const M = 70;
      const N = 75;
      const K = typeof scheme === 'string' ? 93 : scheme.bits === 4 ? 2 * scheme.groupSize + 7 : 101;
      let wRef: Float32Array;
      let packed: PackedMatrix;
      if (typeof scheme === 'string') {
        const w = randomF32(r, N * K, 0.1);
        packed = packFloat(w, N, K, scheme, { maxBindingBytes: 32 * rowBytes(packFloat(w, N, K, scheme, big)) });
        wRef = scheme === 'f16' ? w.map(roundToF16) : w;
      } else {
        const q = randomQuantized(r, N, K, scheme);
        packed = packQuantized(q, { maxBindingBytes: 32 * rowBytes(packQuantized(q, big)) });
        wRef = dequantized(q);
      }
      expect(packed.shards.length).toBeGreaterThan(1);
      const m = uploadMatrix(g, packed);
      const x = randomF32(r, M * K);
      const want = refGemm(wRef, N, K, x, M);
      const xb = storage(g, x);
      for (const variant of variantsFor(g, 'gemm')) {
        const yb = storage(g, M * N * 4);
        await run(g, gemm(g, m, xb, M, yb, { variant }));
        expect(relMaxErr(await readF32(g, yb, M * N), want), variant).toBeLessThan(variant === 'f16' ? TOL_F16_TILE : TOL_F32);
        yb.destroy();
      }
      m.destroy();
      xb.destroy();
    });
  }
});

describe('embedding gather', () => {
  for (const [name, scheme] of [
    ['int4 g64 asym f16', int4(64, false, 'f16')],
    ['int8', int8],
  ] as const) {
    it(`${name}: rows across shards`, async () => {
      const g = need();
      const r = rng(name.length);
      const V = 300;
      const D = scheme.bits === 4 ? 2 * scheme.groupSize + 10 : 90;
      const q = randomQuantized(r, V, D, scheme);
      const table = uploadMatrix(g, packQuantized(q, { maxBindingBytes: 100 * rowBytes(packQuantized(q, big)) }));
      expect(table.shards.length).toBeGreaterThan(1);
      const ids = new Uint32Array([0, 299, 150, 7, 150, 255]);
      const deq = dequantized(q);
      const want = new Float32Array(ids.length * D);
      ids.forEach((id, t) => want.set(deq.subarray(id * D, (id + 1) * D), t * D));
      const idb = storage(g, ids);
      const out = storage(g, want.length * 4);
      await run(g, embed(g, table, idb, ids.length, out));
      expect(relMaxErr(await readF32(g, out, want.length), want)).toBe(0); // dequantization is exact in f32
      table.destroy();
    });
  }
  it('f16 table', async () => {
    const g = need();
    const r = rng(3);
    const V = 50;
    const D = 37;
    const w = randomF32(r, V * D);
    const table = uploadMatrix(g, packFloat(w, V, D, 'f16', { maxBindingBytes: g.maxBindingBytes }));
    const ids = new Uint32Array([49, 0, 13]);
    const want = new Float32Array(ids.length * D);
    ids.forEach((id, t) => want.set(w.subarray(id * D, (id + 1) * D).map(roundToF16), t * D));
    const out = storage(g, want.length * 4);
    await run(g, embed(g, table, storage(g, ids), ids.length, out));
    expect(relMaxErr(await readF32(g, out, want.length), want)).toBe(0);
  });
});

describe('elementwise and row ops', () => {
  it('rmsnorm', async () => {
    const g = need();
    const r = rng(11);
    const rows = 5;
    const n = 333;
    const x = randomF32(r, rows * n, 3);
    const w = randomF32(r, n);
    const y = storage(g, rows * n * 4);
    await run(g, [rmsnorm(g, storage(g, x), storage(g, w), y, rows, n, 1e-5)]);
    expect(relMaxErr(await readF32(g, y, rows * n), refRmsNorm(x, rows, n, w, 1e-5))).toBeLessThan(TOL_F32);
  });
  it('softmax', async () => {
    const g = need();
    const r = rng(12);
    const rows = 4;
    const n = 1001;
    const x = randomF32(r, rows * n, 20);
    const y = storage(g, rows * n * 4);
    await run(g, [softmax(g, storage(g, x), y, rows, n)]);
    expect(relMaxErr(await readF32(g, y, rows * n), refSoftmax(x, rows, n))).toBeLessThan(TOL_F32);
  });
  it('rope (Llama 3 scaled frequencies), positions not starting at 0', async () => {
    const g = need();
    const r = rng(13);
    const T = 3;
    const H = 5;
    const D = 64;
    const x = randomF32(r, T * H * D);
    const pos = new Uint32Array([17, 18, 131]);
    const inv = ropeInvFreq(D, 500000, { factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192 });
    const y = storage(g, x.length * 4);
    await run(g, [rope(g, storage(g, x), storage(g, pos), storage(g, inv), y, T, H, D)]);
    expect(relMaxErr(await readF32(g, y, x.length), refRope(x, T, H, D, pos, inv))).toBeLessThan(TOL_ROPE);
  });
  it('rope_qkv: fused qkv rows, host cos/sin tables at far positions, k/v written into cache rows', async () => {
    const g = need();
    const r = rng(16);
    const [T, HQ, HKV, D, ROW0, CAP] = [3, 4, 2, 16, 5, 12];
    const W = (HQ + 2 * HKV) * D;
    const qkv = randomF32(r, T * W);
    const pos = [100000, 100001, 123456];
    const inv = ropeInvFreq(D, 10000);
    // the tables the target computes: float32(float32(pos) * inv), cos/sin rounded to float32
    const cs = new Float32Array(T * D);
    pos.forEach((p, t) => inv.forEach((f, i) => {
      const a = Math.fround(Math.fround(p) * f);
      cs[t * D + 2 * i] = Math.cos(a);
      cs[t * D + 2 * i + 1] = Math.sin(a);
    }));
    const [q, kc, vc] = [storage(g, T * HQ * D * 4), storage(g, new Float32Array(CAP * HKV * D).fill(7)), storage(g, new Float32Array(CAP * HKV * D).fill(7))];
    await run(g, [ropeQkv(g, { Hq: HQ, Hkv: HKV, D }, T, ROW0, storage(g, qkv), storage(g, cs), q, kc, vc)]);
    const part = (off: number, H: number): Float32Array => {
      const out = new Float32Array(T * H * D);
      for (let t = 0; t < T; t++) out.set(qkv.subarray(t * W + off, t * W + off + H * D), t * H * D);
      return out;
    };
    // rotate_half with the tables (the target's angles; refRope would form them in float64)
    const rot = (x: Float32Array, H: number): Float32Array => {
      const y = new Float32Array(x.length);
      for (let t = 0; t < T; t++) for (let h = 0; h < H; h++) for (let i = 0; i < D / 2; i++) {
        const [b, c, sn] = [(t * H + h) * D, cs[t * D + 2 * i], cs[t * D + 2 * i + 1]];
        y[b + i] = x[b + i] * c - x[b + i + D / 2] * sn;
        y[b + i + D / 2] = x[b + i + D / 2] * c + x[b + i] * sn;
      }
      return y;
    };
    expect(relMaxErr(await readF32(g, q, T * HQ * D), rot(part(0, HQ), HQ))).toBeLessThan(TOL_F32);
    const kAll = await readF32(g, kc, CAP * HKV * D);
    const vAll = await readF32(g, vc, CAP * HKV * D);
    const rows = (a: Float32Array): Float32Array => a.subarray(ROW0 * HKV * D, (ROW0 + T) * HKV * D);
    expect(relMaxErr(rows(kAll), rot(part(HQ * D, HKV), HKV))).toBeLessThan(TOL_F32);
    expect(Array.from(rows(vAll))).toEqual(Array.from(part((HQ + HKV) * D, HKV)));
    // rows outside the written range are untouched
    expect(kAll[0]).toBe(7);
    expect(vAll[(ROW0 + T) * HKV * D]).toBe(7);
  });
  it('swiglu over a fused gate|up [rows, 2F] (strided views, ragged F)', async () => {
    const g = need();
    const r = rng(17);
    const [rows, F] = [3, 173];
    const gu = randomF32(r, rows * 2 * F, 4);
    const y = storage(g, rows * F * 4);
    const b = storage(g, gu);
    await run(g, [swigluRows(g, { buffer: b, stride: 2 * F, offset: 0 }, { buffer: b, stride: 2 * F, offset: F }, y, rows, F)]);
    const gate = new Float32Array(rows * F);
    const up = new Float32Array(rows * F);
    for (let i = 0; i < rows; i++) {
      gate.set(gu.subarray(i * 2 * F, i * 2 * F + F), i * F);
      up.set(gu.subarray(i * 2 * F + F, (i + 1) * 2 * F), i * F);
    }
    expect(relMaxErr(await readF32(g, y, rows * F), refSwiglu(gate, up))).toBeLessThan(TOL_F32);
  });
  it('swiglu and residual add (ragged n)', async () => {
    const g = need();
    const r = rng(14);
    const n = 1029;
    const a = randomF32(r, n, 4);
    const b = randomF32(r, n, 4);
    const y1 = storage(g, n * 4);
    const y2 = storage(g, n * 4);
    const ab = storage(g, a);
    const bb = storage(g, b);
    await run(g, [swiglu(g, ab, bb, y1, n), add(g, ab, bb, y2, n)]);
    expect(relMaxErr(await readF32(g, y1, n), refSwiglu(a, b))).toBeLessThan(TOL_F32);
    expect(relMaxErr(await readF32(g, y2, n), refAdd(a, b))).toBe(0);
  });
  it('argmax: vocab-sized, ties go to the lowest index', async () => {
    const g = need();
    const r = rng(15);
    const n = 128256;
    const x = randomF32(r, n);
    x[77777] = 5;
    x[100001] = 5; // tie: the lower index wins
    x[3] = 4.9;
    const out = storage(g, 16);
    await run(g, [argmax(g, storage(g, x), out, n)]);
    expect((await readU32(g, out, 1))[0]).toBe(refArgmax(x));
    expect(refArgmax(x)).toBe(77777);
  });
});

describe('attention', () => {
  const shape = { Hq: 8, Hkv: 2, D: 64, scale: 1 / 8 };
  for (const S of [1, 77, 700]) {
    it(`decode (split-K, GQA), S = ${S}, cache capacity > S`, async () => {
      const g = need();
      const r = rng(S);
      const cap = S + 9;
      const { Hq, Hkv, D } = shape;
      const q = randomF32(r, Hq * D);
      const k = randomF32(r, cap * Hkv * D);
      const v = randomF32(r, cap * Hkv * D);
      const out = storage(g, Hq * D * 4);
      await run(g, attentionDecode(g, shape, S, storage(g, q), storage(g, k), storage(g, v), out, decodeScratch(g, shape)));
      const want = refAttention(q, k.subarray(0, S * Hkv * D), v.subarray(0, S * Hkv * D), 1, S, Hq, Hkv, D, shape.scale);
      expect(relMaxErr(await readF32(g, out, Hq * D), want)).toBeLessThan(TOL_F32);
    });
  }
  it('decode split count grows with the context', () => {
    expect(decodeSplits(1).splits).toBe(1);
    expect(decodeSplits(700).splits).toBe(11);
    expect(decodeSplits(100000).splits).toBe(32);
  });
  for (const [T, past, D] of [
    [70, 0, 64],
    [9, 130, 128],
  ] as const) {
    it(`prefill (causal, GQA), T = ${T}, past = ${past}, D = ${D}`, async () => {
      const g = need();
      const r = rng(T + past);
      const { Hq, Hkv } = shape;
      const S = past + T;
      const a = { ...shape, D, scale: 1 / Math.sqrt(D) };
      const q = randomF32(r, T * Hq * D);
      const k = randomF32(r, S * Hkv * D);
      const v = randomF32(r, S * Hkv * D);
      const out = storage(g, T * Hq * D * 4);
      await run(g, [attentionPrefill(g, a, T, past, storage(g, q), storage(g, k), storage(g, v), out)]);
      expect(relMaxErr(await readF32(g, out, T * Hq * D), refAttention(q, k, v, T, S, Hq, Hkv, D, a.scale))).toBeLessThan(TOL_F32);
    });
  }
});
