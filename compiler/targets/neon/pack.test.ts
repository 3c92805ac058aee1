// The NEON target's packer (pack.ts) against kernels-arm's C reference packers (src/pack.c, built
// for the host as kernels-arm/build/host/lk_pack): the same plain-layout matrix must give the same
// bytes, on ragged shapes (N not a multiple of 8, K not a multiple of the group) and every weight type.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { f16BitsToF32, f32ToF16Bits } from '../../ir/half.js';
import { groupsPerRow, int4RowBytes, type QuantizedMatrix } from '../../ir/quantized.js';
import { packedBytes, packFloat, packQ4, packQ8, type PackedMatrix } from './pack.js';

const kernels = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'kernels-arm');
const tool = join(kernels, 'build', 'host', 'lk_pack');
let tmp = '';

let seed = 4242;
const rnd = (m: number): number => {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return (seed >>> 8) % m;
};
const bytes = (a: ArrayBufferView): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const file = (name: string, a: ArrayBufferView): string => {
  const p = join(tmp, name);
  writeFileSync(p, bytes(a));
  return p;
};
function cPack(args: string[]): Buffer {
  const out = join(tmp, 'out.bin');
  execFileSync(tool, [...args, out]);
  return readFileSync(out);
}
function expectSame(ts: PackedMatrix, c: Buffer, what: string): void {
  expect(ts.bytes.length, what).toBe(c.length);
  expect(packedBytes(ts.type, ts.N, ts.K, ts.G, ts.sym, ts.scaleF16), what).toBe(c.length);
  expect(Buffer.from(ts.bytes).equals(c), what).toBe(true);
}

function int4(N: number, K: number, G: number, symmetric: boolean, scaleDtype: 'f16' | 'f32'): QuantizedMatrix {
  const nGroups = groupsPerRow(K, G);
  const rowBytes = int4RowBytes(K, G);
  const zeros = symmetric ? null : Uint8Array.from({ length: N * nGroups }, () => rnd(16));
  const scales = Float32Array.from({ length: N * nGroups }, () => {
    const v = 0.001 + rnd(100000) * 1e-6;
    return scaleDtype === 'f16' ? f16BitsToF32(f32ToF16Bits(v)) : v;
  });
  const data = new Uint8Array(N * rowBytes);
  for (let n = 0; n < N; n++)
    for (let k = 0; k < nGroups * G; k++) {
      const q = k < K ? rnd(16) : zeros ? zeros[n * nGroups + Math.floor(k / G)] : 8;
      data[n * rowBytes + (k >> 1)] |= q << (k & 1 ? 4 : 0);
    }
  return { scheme: { bits: 4, groupSize: G, symmetric, scaleDtype, method: 'rtn' }, rows: N, cols: K, nGroups, data, scales, zeros };
}

describe('NEON packer (pack.ts) vs kernels-arm reference packers', () => {
  beforeAll(() => {
    execFileSync('make', ['-C', kernels, 'build/host/lk_pack'], { stdio: ['ignore', 'ignore', 'pipe'] });
    tmp = mkdtempSync(join(tmpdir(), 'neon-pack-'));
  }, 120_000);
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('int4: groups 32/64/128, zero points and symmetric, f16 and f32 scales, ragged N and K', () => {
    const shapes = [
      [13, 200],
      [8, 96],
      [21, 130],
      [5, 33],
      [1, 1],
    ];
    for (const G of [32, 64, 128])
      for (const sym of [false, true])
        for (const sd of ['f16', 'f32'] as const)
          for (const [N, K] of shapes) {
            const q = int4(N, K, G, sym, sd);
            const scales = sd === 'f16' ? Uint16Array.from(q.scales, f32ToF16Bits) : q.scales;
            const c = cPack(['q4', String(N), String(K), String(G), sd, file('d', q.data), file('s', scales), q.zeros ? file('z', q.zeros) : '-']);
            expectSame(packQ4(q), c, `q4 N=${N} K=${K} G=${G} ${sym ? 'sym' : 'asym'} ${sd}`);
          }
  });

  it('int8 per channel (f16 and f32 scales), f16 and f32 dense, ragged shapes', () => {
    for (const [N, K] of [
      [11, 77],
      [16, 64],
      [3, 1],
      [9, 33],
    ]) {
      for (const sd of ['f16', 'f32'] as const) {
        const data = Int8Array.from({ length: N * K }, () => rnd(255) - 127);
        const raw = Float32Array.from({ length: N }, () => 0.001 + rnd(1000) * 1e-5);
        const scales = sd === 'f16' ? Float32Array.from(raw, (v) => f16BitsToF32(f32ToF16Bits(v))) : raw;
        const q: QuantizedMatrix = { scheme: { bits: 8, groupSize: K, symmetric: true, scaleDtype: sd, method: 'rtn' }, rows: N, cols: K, nGroups: 1, data, scales, zeros: null };
        const c = cPack(['q8', String(N), String(K), sd, file('d8', data), file('s8', sd === 'f16' ? Uint16Array.from(scales, f32ToF16Bits) : scales)]);
        expectSame(packQ8(q), c, `q8 N=${N} K=${K} ${sd}`);
      }
      const w = Float32Array.from({ length: N * K }, () => (rnd(2_000_001) - 1_000_000) / 3e5);
      expectSame(packFloat(w, N, K, 'f32'), cPack(['f32', String(N), String(K), file('f', w)]), `f32 N=${N} K=${K}`);
      const h = Uint16Array.from(w, f32ToF16Bits);
      expectSame(packFloat(w, N, K, 'f16'), cPack(['f16', String(N), String(K), file('h', h)]), `f16 N=${N} K=${K}`);
    }
  });
});
