// Parallel quantization over node:worker_threads.
//
// Every scheme treats rows independently (GPTQ too, once H is prepared), so a matrix is split
// into row chunks that workers quantize with the very kernel of the in-thread path (kernels.ts):
// results are byte-identical whatever the thread count or chunking. Chunks are copied to the
// worker by transfer; GPTQ's K×K factor lives in a SharedArrayBuffer and is not copied. Memory
// stays bounded if callers stream one tensor at a time: at most one matrix's output plus the
// in-flight chunks exist at once.
//
// The worker script is `new URL('./worker.js', import.meta.url)`, which exists in the compiled
// dist/compiler/quant/. When it does not (running from the TypeScript sources, e.g. under
// vitest, where Node 20 cannot load .ts in a worker), the pool runs chunks in this thread
// instead, unless `workerUrl` points at a compiled worker.

import { existsSync } from 'node:fs';
import { LlamacError } from '../errors.js';
import type { StoredRows } from '../ir/materialize.js';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { groupsPerRow, int4RowBytes } from '../ir/quantized.js';
import type { QuantizedMatrix, QuantScheme, ScaleDtype } from '../ir/quantized.js';
import { prepareGptq } from './gptq.js';
import type { GptqHessian, GptqOptions } from './gptq.js';
import { checkShape, resolveInt4 } from './int4.js';
import type { Int4Options } from './int4.js';
import { runChunk, runStoredChunk } from './kernels.js';
import type { ChunkResult, ChunkSpec } from './kernels.js';
import { QK4_0 } from './q4_0.js';
import type { ChunkReply, ChunkRequest } from './worker.js';

/**
 * Rows of W: float32 [N, K] row-major, or stored checkpoint tensors stacked along rows, which
 * the workers read and decode themselves block by block (not for GPTQ).
 */
export type JobRows = Float32Array | readonly StoredRows[];

/** One matrix to quantize, W [N, K] row-major. */
export type QuantJob =
  | { readonly kind: 'int8'; readonly W: JobRows; readonly N: number; readonly K: number; readonly scaleDtype?: ScaleDtype }
  | { readonly kind: 'int4'; readonly W: JobRows; readonly N: number; readonly K: number; readonly options?: Int4Options }
  | { readonly kind: 'q4_0'; readonly W: JobRows; readonly N: number; readonly K: number }
  | {
      readonly kind: 'gptq';
      readonly W: Float32Array;
      readonly N: number;
      readonly K: number;
      /** Raw H (Σ x xᵀ, K×K) or prepareGptq's result (share it across q/k/v, gate/up). */
      readonly H: Float64Array | GptqHessian;
      readonly options?: GptqOptions;
    };

export interface PoolOptions {
  /** Worker count; default os.availableParallelism(). 0 = always in-thread. */
  readonly threads?: number;
  /** A compiled worker.js to use instead of the one next to this module. */
  readonly workerUrl?: URL;
  /** Rows per chunk; default about N / (4 · threads), at least 16. */
  readonly chunkRows?: number;
}

function defaultWorkerUrl(): URL | null {
  const url = new URL('./worker.js', import.meta.url);
  return url.protocol === 'file:' && existsSync(fileURLToPath(url)) ? url : null;
}

interface Pending {
  resolve: (r: ChunkResult) => void;
  reject: (e: Error) => void;
}

export class QuantPool {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: { req: ChunkRequest; p: Pending }[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private readonly chunkRows: number | undefined;
  /** True when chunks run in worker threads, false for the in-thread fallback. */
  readonly parallel: boolean;

  constructor(opts: PoolOptions = {}) {
    const threads = opts.threads ?? availableParallelism();
    const url = opts.workerUrl ?? defaultWorkerUrl();
    this.chunkRows = opts.chunkRows;
    this.parallel = threads > 0 && url !== null;
    if (!this.parallel || !url) return;
    for (let i = 0; i < threads; i++) {
      const w = new Worker(url);
      w.on('message', (msg: ChunkReply) => this.onReply(w, msg));
      w.on('error', (err: Error) => this.failAll(err));
      w.unref();
      this.workers.push(w);
      this.idle.push(w);
    }
  }

  /** Quantizes one matrix (chunks spread over the workers). */
  async quantize(job: QuantJob): Promise<QuantizedMatrix> {
    const { W, N, K } = job;
    if (W instanceof Float32Array) checkShape(W, N, K);
    else {
      if (job.kind === 'gptq') throw new Error('internal: GPTQ needs float32 rows');
      const n = W.reduce((a, p) => a + p.rows, 0);
      if (n !== N || W.some((p) => p.tensor.shape[1] !== K)) throw new Error(`internal: stored rows do not make [${N}, ${K}]`);
    }
    const { spec, scheme, nGroups, rowBytes } = planJob(job);
    const threads = Math.max(1, this.workers.length);
    const chunk = Math.max(1, this.chunkRows ?? Math.max(16, Math.ceil(N / (4 * threads))));
    const parts: Promise<ChunkResult>[] = [];
    for (let r0 = 0; r0 < N; r0 += chunk) {
      const rows = Math.min(chunk, N - r0);
      if (!(W instanceof Float32Array)) {
        const stored = { parts: W, row0: r0 };
        if (this.parallel) parts.push(this.submit({ id: this.nextId++, spec, W: null, stored, rows, K }));
        else parts.push(Promise.resolve(runStoredChunk(spec, W, r0, rows, K)));
        continue;
      }
      const Wc = W.slice(r0 * K, (r0 + rows) * K);
      if (this.parallel) parts.push(this.submit({ id: this.nextId++, spec, W: Wc, stored: null, rows, K }));
      else parts.push(Promise.resolve(runChunk(spec, Wc, rows, K)));
    }
    const results = await Promise.all(parts);
    const bytesPerRow = scheme.bits === 8 ? K : rowBytes;
    const data = scheme.bits === 8 ? new Int8Array(N * K) : new Uint8Array(N * bytesPerRow);
    const scales = new Float32Array(N * nGroups);
    const zeros = scheme.bits === 4 && !scheme.symmetric ? new Uint8Array(N * nGroups) : null;
    let r0 = 0;
    for (const res of results) {
      const rows = res.scales.length / nGroups;
      if (data instanceof Int8Array) data.set(res.data as Int8Array, r0 * bytesPerRow);
      else data.set(res.data as Uint8Array, r0 * bytesPerRow);
      scales.set(res.scales, r0 * nGroups);
      if (zeros && res.zeros) zeros.set(res.zeros, r0 * nGroups);
      r0 += rows;
    }
    return { scheme, rows: N, cols: K, nGroups, data, scales, zeros };
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
    this.idle.length = 0;
  }

  private submit(req: ChunkRequest): Promise<ChunkResult> {
    return new Promise<ChunkResult>((resolve, reject) => {
      this.queue.push({ req, p: { resolve, reject } });
      this.pump();
    });
  }

  private pump(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const w = this.idle.pop() as Worker;
      const { req, p } = this.queue.shift() as { req: ChunkRequest; p: Pending };
      this.pending.set(req.id, p);
      // Referenced only while busy: an idle pool never keeps the process alive.
      w.ref();
      w.postMessage(req, req.W ? [req.W.buffer as ArrayBuffer] : []);
    }
  }

  private onReply(w: Worker, msg: ChunkReply): void {
    const p = this.pending.get(msg.id);
    this.pending.delete(msg.id);
    w.unref();
    this.idle.push(w);
    if (p) {
      if (msg.ok) p.resolve({ data: msg.data, scales: msg.scales, zeros: msg.zeros });
      else p.reject(msg.userError ? new LlamacError(msg.error) : new Error(`quant worker: ${msg.error}`));
    }
    this.pump();
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    for (const { p } of this.queue.splice(0)) p.reject(err);
  }
}

function planJob(job: QuantJob): { spec: ChunkSpec; scheme: QuantScheme; nGroups: number; rowBytes: number } {
  const K = job.K;
  switch (job.kind) {
    case 'int8': {
      const scaleDtype = job.scaleDtype ?? 'f16';
      return { spec: { kind: 'int8', scaleDtype }, scheme: { bits: 8, groupSize: K, symmetric: true, scaleDtype, method: 'rtn' }, nGroups: 1, rowBytes: K };
    }
    case 'q4_0':
      return {
        spec: { kind: 'q4_0' },
        scheme: { bits: 4, groupSize: QK4_0, symmetric: true, scaleDtype: 'f16', method: 'q4_0' },
        nGroups: groupsPerRow(K, QK4_0),
        rowBytes: int4RowBytes(K, QK4_0),
      };
    case 'int4':
    case 'gptq': {
      const opts = job.options ?? {};
      const cfg = resolveInt4(opts);
      if (cfg.zeroPoint === 'float') throw new Error('quant pool: float zero points are not in the IR layout yet; use quantizeInt4 / quantizeGptq in this thread');
      const cw = opts.colWeights ? Float32Array.from(opts.colWeights) : null;
      if (cw && cw.length !== K) throw new Error(`colWeights length ${cw.length} != K ${K}`);
      const scheme: QuantScheme = { bits: 4, groupSize: cfg.groupSize, symmetric: cfg.symmetric, scaleDtype: cfg.scaleDtype, method: job.kind === 'gptq' ? 'gptq' : cfg.method };
      const geom = { nGroups: groupsPerRow(K, cfg.groupSize), rowBytes: int4RowBytes(K, cfg.groupSize) };
      if (job.kind === 'int4') return { spec: { kind: 'int4', cfg, colWeights: cw }, scheme, ...geom };
      const hessian = job.H instanceof Float64Array ? prepareGptq(job.H, K, job.options ?? {}) : job.H;
      return { spec: { kind: 'gptq', cfg, blockSize: job.options?.blockSize ?? 128, hessian, colWeights: cw }, scheme, ...geom };
    }
  }
}

/** Quantizes matrices one after another (each one split across the workers), then closes the pool. */
export async function quantizeMatrices(jobs: Iterable<QuantJob>, opts: PoolOptions = {}): Promise<QuantizedMatrix[]> {
  const pool = new QuantPool(opts);
  try {
    const out: QuantizedMatrix[] = [];
    for (const job of jobs) out.push(await pool.quantize(job));
    return out;
  } finally {
    await pool.close();
  }
}
