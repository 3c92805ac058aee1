// One Llama decoder layer (decode step, GQA, RoPE, KV cache, SwiGLU MLP, int4 weights) as
// layer.ts composes it from the kernels, against the float32 references composed by hand: once
// with float activations, once on the int8-activation path (fused producers + gemv_q8, no quant_x).
import { describe, expect, it } from 'vitest';
import type { QuantizedMatrix } from '../compiler/ir/quantized.js';
import { readF32, run, storage, type Gpu } from './gpu.js';
import { uploadMatrix, variantsFor, type GpuMatrix } from './kernels.js';
import { decodeLayer, layerScratch, type LayerShape, type LayerWeights } from './layer.js';
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
      const shape: LayerShape = { hidden: H, heads: HQ, kvHeads: HKV, headDim: D, inter: I, eps: EPS };
      const w: LayerWeights = { wq: up(l.wq), wk: up(l.wk), wv: up(l.wv), wo: up(l.wo), wg: up(l.wg), wu: up(l.wu), wd: up(l.wd), norm1: storage(g, l.norm1), norm2: storage(g, l.norm2) };
      const cache = { k: storage(g, kCache), v: storage(g, vCache), invFreq: storage(g, invFreq), pos: storage(g, Uint32Array.of(S - 1)) };
      const [xb, out] = [storage(g, x), storage(g, H * 4)];
      const scratch = layerScratch(g, shape);
      const steps = decodeLayer(g, shape, w, cache, S, xb, out, scratch, { path: path === 'float activations' ? 'f32x' : 'q8x' });
      await run(g, steps);
      const got = await readF32(g, out, H);
      // float path: f32 rounding only (measured 1.7e-6); int8 path: every matrix input rounded to
      // 1/254 of its block's max (measured 1.0e-2 of the largest output)
      expect(relMaxErr(got, want)).toBeLessThan(path === 'float activations' ? 2e-5 : 3e-2);
      // the attention really read the appended token: the cache row S-1 holds the new rotated k
      const cached = await readF32(g, cache.k, S * HKV * D);
      const kNew = await readF32(g, scratch.f32.kr, HKV * D);
      expect(Array.from(cached.subarray((S - 1) * HKV * D))).toEqual(Array.from(kNew));
      [w.wq, w.wk, w.wv, w.wo, w.wg, w.wu, w.wd].forEach((m) => m.destroy());
      scratch.destroy();
    });
  }
});
