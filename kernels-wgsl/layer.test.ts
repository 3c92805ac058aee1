// One Llama decoder layer (decode step, GQA, RoPE, KV cache, SwiGLU MLP, int4 weights) composed
// from the library's kernels the way the WebGPU target will drive them, against the float32
// references composed the same way: once with float activations, once on the int8-activation path
// (fused producers + gemv_q8, no quant_x dispatch).
import { describe, expect, it } from 'vitest';
import type { QuantizedMatrix } from '../compiler/ir/quantized.js';
import { readF32, run, storage, type BufferCopy, type Dispatch, type Gpu } from './gpu.js';
import {
  add,
  attentionDecode,
  attentionDecodeQ8,
  decodeScratch,
  gemv,
  gemvQ8,
  q8Vector,
  rmsnorm,
  rmsnormQ8,
  rope,
  swiglu,
  swigluQ8,
  uploadMatrix,
  variantsFor,
  type GpuMatrix,
} from './kernels.js';
import { packQuantized } from './pack.js';
import { dequantized, randomF32, randomQuantized, refAdd, refAttention, refGemv, refRmsNorm, refRope, refSwiglu, relMaxErr, rng, ropeInvFreq } from './reference.js';
import { useGpu } from './test-gpu.js';

const need = useGpu();

// hidden 128, 4 query heads / 2 kv heads of 32, MLP 256, a context of 40 tokens (the 40th is new)
const H = 128;
const HQ = 4;
const HKV = 2;
const D = 32;
const I = 256;
const S = 40;
const CAP = 64;
const EPS = 1e-5;

interface Layer {
  wq: QuantizedMatrix;
  wk: QuantizedMatrix;
  wv: QuantizedMatrix;
  wo: QuantizedMatrix;
  wg: QuantizedMatrix;
  wu: QuantizedMatrix;
  wd: QuantizedMatrix;
  norm1: Float32Array;
  norm2: Float32Array;
}

function randomLayer(r: () => number): Layer {
  const q = (n: number, k: number): QuantizedMatrix => randomQuantized(r, n, k, { bits: 4, groupSize: 32, symmetric: false, scaleDtype: 'f16', method: 'rtn' });
  const norm = (): Float32Array => Float32Array.from(randomF32(r, H, 0.5), (v) => 1 + v);
  return { wq: q(HQ * D, H), wk: q(HKV * D, H), wv: q(HKV * D, H), wo: q(H, HQ * D), wg: q(I, H), wu: q(I, H), wd: q(H, I), norm1: norm(), norm2: norm() };
}

/** The layer in float32 references: returns the new residual stream. */
function refLayer(l: Layer, x: Float32Array, kCache: Float32Array, vCache: Float32Array, invFreq: Float32Array): Float32Array {
  const mm = (m: QuantizedMatrix, v: Float32Array): Float32Array => refGemv(dequantized(m), m.rows, m.cols, v);
  const pos = Uint32Array.of(S - 1);
  const h = refRmsNorm(x, 1, H, l.norm1, EPS);
  const q = refRope(mm(l.wq, h), 1, HQ, D, pos, invFreq);
  const k = refRope(mm(l.wk, h), 1, HKV, D, pos, invFreq);
  const v = mm(l.wv, h);
  const keys = kCache.slice(0, S * HKV * D);
  const values = vCache.slice(0, S * HKV * D);
  keys.set(k, (S - 1) * HKV * D);
  values.set(v, (S - 1) * HKV * D);
  const attn = refAttention(q, keys, values, 1, S, HQ, HKV, D, 1 / Math.sqrt(D));
  const x2 = refAdd(x, mm(l.wo, attn));
  const h2 = refRmsNorm(x2, 1, H, l.norm2, EPS);
  return refAdd(x2, mm(l.wd, refSwiglu(mm(l.wg, h2), mm(l.wu, h2))));
}

describe('a Llama decoder layer composed from the kernels', () => {
  for (const path of ['float activations', 'int8 activations'] as const) {
    it(`${path}: matches the float32 reference layer`, async () => {
      const g: Gpu = need();
      if (path === 'int8 activations' && !variantsFor(g, 'gemv_q8').length) throw new Error('no packed 4x8 dot products on this adapter');
      const r = rng(path === 'float activations' ? 11 : 12);
      const l = randomLayer(r);
      const x = randomF32(r, H, 2);
      const kCache = randomF32(r, CAP * HKV * D);
      const vCache = randomF32(r, CAP * HKV * D);
      const invFreq = ropeInvFreq(D, 500000, { factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192 });
      const want = refLayer(l, x, kCache, vCache, invFreq);

      const up = (m: QuantizedMatrix): GpuMatrix => uploadMatrix(g, packQuantized(m, { maxBindingBytes: g.maxBindingBytes }));
      const [wq, wk, wv, wo, wg, wu, wd] = [l.wq, l.wk, l.wv, l.wo, l.wg, l.wu, l.wd].map(up);
      const f32 = (n: number): GPUBuffer => storage(g, n * 4);
      const xb = storage(g, x);
      const [n1, n2, kc, vc, freq, pos] = [storage(g, l.norm1), storage(g, l.norm2), storage(g, kCache), storage(g, vCache), storage(g, invFreq), storage(g, Uint32Array.of(S - 1))];
      const [h, q, k, v, qr, kr, attn, o, x2, h2, gate, upv, act, down, out] = [H, HQ * D, HKV * D, HKV * D, HQ * D, HKV * D, HQ * D, H, H, H, I, I, I, H, H].map(f32);
      const shape = { Hq: HQ, Hkv: HKV, D, scale: 1 / Math.sqrt(D) };
      const scratch = decodeScratch(g, shape);
      const kvBytes = HKV * D * 4;
      const appendKv: BufferCopy[] = [
        { copy: { src: kr, dst: kc, dstOffset: (S - 1) * kvBytes, bytes: kvBytes } },
        { copy: { src: v, dst: vc, dstOffset: (S - 1) * kvBytes, bytes: kvBytes } },
      ];
      let steps: (Dispatch | BufferCopy)[];
      if (path === 'float activations') {
        steps = [
          rmsnorm(g, xb, n1, h, 1, H, EPS),
          ...gemv(g, wq, h, q),
          ...gemv(g, wk, h, k),
          ...gemv(g, wv, h, v),
          rope(g, q, pos, freq, qr, 1, HQ, D),
          rope(g, k, pos, freq, kr, 1, HKV, D),
          ...appendKv,
          ...attentionDecode(g, shape, S, qr, kc, vc, attn, scratch),
          ...gemv(g, wo, attn, o),
          add(g, xb, o, x2, H),
          rmsnorm(g, x2, n2, h2, 1, H, EPS),
          ...gemv(g, wg, h2, gate),
          ...gemv(g, wu, h2, upv),
          swiglu(g, gate, upv, act, I),
          ...gemv(g, wd, act, down),
          add(g, x2, down, out, H),
        ];
      } else {
        // every matrix input is written as int8 blocks by its producer
        const [hq, attnq, h2q, actq] = [H, HQ * D, H, I].map((n) => q8Vector(g, n));
        steps = [
          rmsnormQ8(g, xb, n1, hq, EPS),
          ...gemvQ8(g, wq, hq, q),
          ...gemvQ8(g, wk, hq, k),
          ...gemvQ8(g, wv, hq, v),
          rope(g, q, pos, freq, qr, 1, HQ, D),
          rope(g, k, pos, freq, kr, 1, HKV, D),
          ...appendKv,
          ...attentionDecodeQ8(g, shape, S, qr, kc, vc, attnq, scratch),
          ...gemvQ8(g, wo, attnq, o),
          add(g, xb, o, x2, H),
          rmsnormQ8(g, x2, n2, h2q, EPS),
          ...gemvQ8(g, wg, h2q, gate),
          ...gemvQ8(g, wu, h2q, upv),
          swigluQ8(g, gate, upv, actq),
          ...gemvQ8(g, wd, actq, down),
          add(g, x2, down, out, H),
        ];
      }
      await run(g, steps);
      const got = await readF32(g, out, H);
      // float path: f32 rounding only (measured 1.7e-6); int8 path: every matrix input rounded to
      // 1/254 of its block's max (measured 1.0e-2 of the largest output)
      expect(relMaxErr(got, want)).toBeLessThan(path === 'float activations' ? 2e-5 : 3e-2);
      // the attention really read the appended token: the cache row S-1 holds the new rotated k
      const cached = await readF32(g, kc, S * HKV * D);
      const kNew = await readF32(g, kr, HKV * D);
      expect(Array.from(cached.subarray((S - 1) * HKV * D))).toEqual(Array.from(kNew));
      [wq, wk, wv, wo, wg, wu, wd].forEach((m) => m.destroy());
    });
  }
});
