import { describe, expect, it } from 'vitest';
import { dequantize } from '../compiler/ir/quantized.js';
import { f16BitsToF32, f32ToF16Bits as f32ToF16 } from '../compiler/ir/half.js';
import { packFloat, packQuantized, shardPlan, type PackedMatrix } from './pack.js';
import { randomF32, randomQuantized, rng } from './reference.js';

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

  // Reads element (n, k) back from the written layout alone (README "Weight storage layout"), never
  // through the packer's code: value, per-group scale (f16 pairs or f32 words) and zero.
  function readBack(p: PackedMatrix, n: number, k: number): number {
    const s = p.shards.find((x) => n >= x.rowBase && n < x.rowBase + x.rows);
    if (!s) throw new Error(`row ${n} in no shard`);
    const r = n - s.rowBase;
    const words = p.chunksPerRow * 4;
    const scaleAt = (i: number): number => (p.scaleF16 ? f16BitsToF32((s.scales[i >> 1] >>> ((i & 1) * 16)) & 0xffff) : new Float32Array(s.scales.buffer, s.scales.byteOffset)[i]);
    if (p.kind === 'int8') {
      const byte = (s.data[r * words + (k >> 2)] >>> ((k & 3) * 8)) & 0xff;
      return Math.fround((byte > 127 ? byte - 256 : byte) * scaleAt(r));
    }
    if (p.kind === 'int4') {
      const kk = k & 7;
      const q = (s.data[r * words + (k >> 3)] >>> ((kk & 3) * 8 + (kk >> 2) * 4)) & 15;
      const g = r * p.groupsPerRow + Math.floor(k / p.groupSize);
      const zero = p.hasZeros && s.zeros ? (s.zeros[g >> 3] >>> ((g & 7) * 4)) & 15 : 8;
      return Math.fround((q - zero) * scaleAt(g));
    }
    if (p.kind === 'f16') return f16BitsToF32((s.data[r * words + (k >> 1)] >>> ((k & 1) * 16)) & 0xffff);
    return new Float32Array(s.data.buffer, s.data.byteOffset)[r * words + k];
  }
  const expectLayout = (p: PackedMatrix, want: Float32Array, N: number, K: number): void => {
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) expect(readBack(p, n, k), `(${n}, ${k})`).toBe(want[n * K + k]);
  };

  it.each([
    ['int8, f16 scales', { bits: 8, groupSize: 0, symmetric: true, scaleDtype: 'f16' }],
    ['int8, f32 scales', { bits: 8, groupSize: 0, symmetric: true, scaleDtype: 'f32' }],
    ['int4 symmetric g32, f16 scales (no zeros bound)', { bits: 4, groupSize: 32, symmetric: true, scaleDtype: 'f16' }],
    ['int4 asymmetric g64, f16 scales', { bits: 4, groupSize: 64, symmetric: false, scaleDtype: 'f16' }],
    ['int4 symmetric g128, f32 scales', { bits: 4, groupSize: 128, symmetric: true, scaleDtype: 'f32' }],
  ] as const)('%s: every element reads back exactly from the written layout, across row shards', (_, scheme) => {
    const [N, K] = [150, 200]; // ragged K (padding), rows split into shards below
    const q = randomQuantized(rng(7), N, K, { ...scheme, method: 'rtn' });
    const one = packQuantized(q, { maxBindingBytes: 2 ** 30 });
    expect(one.shards.length).toBe(1);
    // a limit of 64 rows' data per binding: shards of 64, 64, 22 rows
    const rowBytes = one.chunksPerRow * 16;
    const p = packQuantized(q, { maxBindingBytes: rowBytes * 64 + 8 });
    expect(p.shards.map((s) => [s.rowBase, s.rows])).toEqual([[0, 64], [64, 64], [128, 22]]);
    expect(p.hasZeros).toBe(!scheme.symmetric && scheme.bits === 4);
    if (!p.hasZeros) for (const s of p.shards) expect(s.zeros).toBeNull();
    for (const s of p.shards) {
      expect(s.data.length).toBe(s.rows * p.chunksPerRow * 4);
      expect(s.scales.length).toBe(Math.ceil((s.rows * p.groupsPerRow) / (p.scaleF16 ? 2 : 1)));
    }
    expectLayout(p, dequantize(q), N, K);
    // padding past K dequantizes to zero
    const last = p.shards[2];
    const padK = p.chunksPerRow * (p.kind === 'int4' ? 32 : 16);
    if (padK > K) expect(readBack(p, 149, padK - 1)).toBe(0);
    expect(last.rowBase + last.rows).toBe(N);
  });

  it.each(['f16', 'f32'] as const)('%s float weights: packed values read back (f16 rounded to nearest even), sharded', (kind) => {
    const [N, K] = [70, 13];
    const w = randomF32(rng(9), N * K, 3);
    const p = packFloat(w, N, K, kind, { maxBindingBytes: 32 * p0(kind, K) });
    expect(p.shards.map((s) => s.rows)).toEqual([32, 32, 6]);
    const want = kind === 'f32' ? w : Float32Array.from(w, (v) => f16BitsToF32(f32ToF16(v)));
    expectLayout(p, want, N, K);
  });
});

function p0(kind: 'f16' | 'f32', K: number): number {
  return Math.ceil(K / (kind === 'f16' ? 8 : 4)) * 16;
}
