import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QuantizedMatrix } from '../ir/quantized.js';
import { encodeSafetensorsHeader } from '../checkpoint/safetensors.js';
import { LlamacError } from '../errors.js';
import type { StoredRows, StoredTensor } from '../ir/materialize.js';
import { HessianAccumulator, prepareGptq, quantizeGptq } from './gptq.js';
import { quantizeInt4 } from './int4.js';
import { quantizeInt8 } from './int8.js';
import { QuantPool, quantizeMatrices } from './pool.js';
import { quantizeQ4_0 } from './q4_0.js';
import { gaussianArray, studentTArray } from './random.js';

// Node 20 cannot run .ts in a worker, so (as dist/ would) we transpile the quant and ir sources
// to plain JS in a temp folder and point the pool at that worker.js. Same sources, real threads.
const here = dirname(fileURLToPath(import.meta.url));
let outDir = '';
let workerUrl: URL;

beforeAll(() => {
  outDir = mkdtempSync(join(tmpdir(), 'llamac-quant-'));
  writeFileSync(join(outDir, 'package.json'), '{"type":"module"}');
  // checkpoint/, errors.ts and messages.ts: workers read stored rows themselves (safetensors.ts).
  for (const sub of ['quant', 'ir', 'checkpoint', '.']) {
    const src = join(here, '..', sub);
    mkdirSync(join(outDir, 'compiler', sub), { recursive: true });
    for (const f of readdirSync(src)) {
      if (!f.endsWith('.ts') || f.endsWith('.test.ts') || (sub === '.' && !['errors.ts', 'messages.ts'].includes(f))) continue;
      const js = ts.transpileModule(readFileSync(join(src, f), 'utf8'), {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      }).outputText;
      writeFileSync(join(outDir, 'compiler', sub, f.replace(/\.ts$/, '.js')), js);
    }
  }
  workerUrl = pathToFileURL(join(outDir, 'compiler', 'quant', 'worker.js'));
});

afterAll(() => {
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

function expectSameBytes(a: QuantizedMatrix, b: QuantizedMatrix): void {
  expect(a.scheme).toEqual(b.scheme);
  expect([a.rows, a.cols, a.nGroups]).toEqual([b.rows, b.cols, b.nGroups]);
  expect(a.data.constructor).toBe(b.data.constructor);
  expect(Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength).equals(Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength))).toBe(true);
  expect(Buffer.from(a.scales.buffer).equals(Buffer.from(b.scales.buffer))).toBe(true);
  if (a.zeros || b.zeros) expect(Buffer.from((a.zeros as Uint8Array).buffer).equals(Buffer.from((b.zeros as Uint8Array).buffer))).toBe(true);
}

describe('worker pool', () => {
  const N = 70; // not a multiple of the chunk size
  const K = 172; // ragged for g32
  const W = studentTArray(N * K, 40, 4, 0.05);
  const X = gaussianArray(200 * K, 41);
  const acc = new HessianAccumulator(K);
  acc.addRows(X, 200, K);
  const H = acc.hessian();

  it('gives byte-identical results to the in-thread functions, in worker threads', async () => {
    const pool = new QuantPool({ threads: 2, workerUrl, chunkRows: 16 });
    try {
      expect(pool.parallel).toBe(true);
      const prep = prepareGptq(H, K);
      const [i8, i4, i4s, q40, gq, cw] = await Promise.all([
        pool.quantize({ kind: 'int8', W, N, K }),
        pool.quantize({ kind: 'int4', W, N, K }),
        pool.quantize({ kind: 'int4', W, N, K, options: { symmetric: true, groupSize: 64, scaleDtype: 'f32', method: 'rtn' } }),
        pool.quantize({ kind: 'q4_0', W, N, K }),
        pool.quantize({ kind: 'gptq', W, N, K, H: prep }),
        pool.quantize({ kind: 'int4', W, N, K, options: { colWeights: acc.meanSquare() } }),
      ]);
      expectSameBytes(i8, quantizeInt8(W, N, K));
      expectSameBytes(i4, quantizeInt4(W, N, K));
      expectSameBytes(i4s, quantizeInt4(W, N, K, { symmetric: true, groupSize: 64, scaleDtype: 'f32', method: 'rtn' }));
      expectSameBytes(q40, quantizeQ4_0(W, N, K));
      expectSameBytes(gq, quantizeGptq(W, N, K, prep));
      expectSameBytes(cw, quantizeInt4(W, N, K, { colWeights: acc.meanSquare() }));
    } finally {
      await pool.close();
    }
  });

  it('in-thread fallback (threads: 0) and quantizeMatrices give the same bytes', async () => {
    const inThread = new QuantPool({ threads: 0 });
    expect(inThread.parallel).toBe(false);
    const a = await inThread.quantize({ kind: 'gptq', W, N, K, H, options: { actOrder: false } });
    expectSameBytes(a, quantizeGptq(W, N, K, H, { actOrder: false }));
    const [b, c] = await quantizeMatrices(
      [
        { kind: 'int4', W, N, K, options: { groupSize: 128 } },
        { kind: 'q4_0', W, N, K },
      ],
      { threads: 2, workerUrl, chunkRows: 7 },
    );
    expectSameBytes(b, quantizeInt4(W, N, K, { groupSize: 128 }));
    expectSameBytes(c, quantizeQ4_0(W, N, K));
  });

  it('refuses float zero points (not in the IR layout)', async () => {
    const pool = new QuantPool({ threads: 0 });
    await expect(pool.quantize({ kind: 'int4', W, N, K, options: { zeroPoint: 'float' } })).rejects.toThrow(/float zero/);
  });

  it('reports worker errors as rejections', async () => {
    const pool = new QuantPool({ threads: 1, workerUrl });
    try {
      const bad = new Float32Array(N * K);
      bad[5] = NaN;
      await expect(pool.quantize({ kind: 'int4', W: bad, N, K })).rejects.toThrow(/non-finite/);
      // The pool still works after a failed chunk.
      expectSameBytes(await pool.quantize({ kind: 'q4_0', W, N, K }), quantizeQ4_0(W, N, K));
    } finally {
      await pool.close();
    }
  });
});

/** Writes tensors as a bf16 safetensors file; returns where each is and its decoded float32 values. */
function writeBf16(file: string, tensors: { name: string; shape: [number, number]; values: Float32Array }[]): { stored: StoredTensor[]; decoded: Float32Array[] } {
  const { header } = encodeSafetensorsHeader(tensors.map((t) => ({ name: t.name, dtype: 'BF16' as const, shape: t.shape })));
  const parts: Uint8Array[] = [header];
  const stored: StoredTensor[] = [];
  const decoded: Float32Array[] = [];
  let offset = header.length;
  for (const t of tensors) {
    const bits = new Uint32Array(t.values.buffer, t.values.byteOffset, t.values.length);
    const half = Uint16Array.from(bits, (b) => b >>> 16);
    decoded.push(new Float32Array(Uint32Array.from(half, (h) => h << 16).buffer));
    stored.push({ name: t.name, file, dtype: 'BF16', shape: t.shape, offset });
    parts.push(new Uint8Array(half.buffer));
    offset += half.byteLength;
  }
  writeFileSync(file, Buffer.concat(parts));
  return { stored, decoded };
}

describe('quantizing stored rows (workers read and decode the checkpoint themselves)', () => {
  const K = 172; // ragged for g32 and g64
  const dir = mkdtempSync(join(tmpdir(), 'llamac-stored-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const a = studentTArray(45 * K, 50, 4, 0.05);
  const b = studentTArray(30 * K, 51, 4, 0.05);
  const { stored, decoded } = writeBf16(join(dir, 'w.safetensors'), [
    { name: 'a', shape: [45, K], values: a },
    { name: 'b', shape: [30, K], values: b },
  ]);
  // Rows 5..44 of a stacked over all of b, as a fused QKV's parts are.
  const parts: StoredRows[] = [
    { tensor: stored[0], rowStart: 5, rows: 40 },
    { tensor: stored[1], rowStart: 0, rows: 30 },
  ];
  const N = 70;
  const W = new Float32Array(N * K);
  W.set(decoded[0].subarray(5 * K), 0);
  W.set(decoded[1], 40 * K);
  const jobs = [
    { kind: 'int8', N, K },
    { kind: 'int4', N, K, options: { method: 'rtn' } },
    { kind: 'int4', N, K, options: { method: 'rtn', symmetric: true, groupSize: 64, scaleDtype: 'f32' } },
    { kind: 'int4', N, K, options: { method: 'search' } },
    { kind: 'q4_0', N, K },
  ] as const;

  it('gives the bytes of the float32 path whatever the thread count and chunking', async () => {
    const want = [quantizeInt8(W, N, K), quantizeInt4(W, N, K, jobs[1].options), quantizeInt4(W, N, K, jobs[2].options), quantizeInt4(W, N, K), quantizeQ4_0(W, N, K)];
    for (const opts of [{ threads: 0 }, { threads: 1, workerUrl, chunkRows: 70 }, { threads: 2, workerUrl, chunkRows: 9 }, { threads: 3, workerUrl }]) {
      const pool = new QuantPool(opts);
      try {
        const got = await Promise.all(jobs.map((j) => pool.quantize({ ...j, W: parts })));
        got.forEach((m, i) => expectSameBytes(m, want[i]));
      } finally {
        await pool.close();
      }
    }
  });

  it('names the file and tensor of a NaN, from a worker too', async () => {
    const bad = b.slice();
    bad[7 * K + 3] = NaN;
    const { stored: s2 } = writeBf16(join(dir, 'bad.safetensors'), [{ name: 'model.bad.weight', shape: [30, K], values: bad }]);
    for (const opts of [{ threads: 0 }, { threads: 2, workerUrl }]) {
      const pool = new QuantPool(opts);
      try {
        const p = pool.quantize({ kind: 'int4', W: [{ tensor: s2[0], rowStart: 0, rows: 30 }], N: 30, K });
        await expect(p).rejects.toThrow(LlamacError);
        await expect(p).rejects.toThrow(`bad.safetensors: tensor 'model.bad.weight' contains NaN at element ${7 * K + 3}`);
      } finally {
        await pool.close();
      }
    }
  });
});
