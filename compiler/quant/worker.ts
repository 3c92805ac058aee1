// Worker-thread side of the pool: receives row chunks, runs the same kernel as the in-thread
// path, transfers the packed results back.

import { parentPort } from 'node:worker_threads';
import { LlamacError } from '../errors.js';
import type { StoredRows } from '../ir/materialize.js';
import { runChunk, runStoredChunk } from './kernels.js';
import type { ChunkSpec } from './kernels.js';

export interface ChunkRequest {
  readonly id: number;
  readonly spec: ChunkSpec;
  /** Float32 rows, or null when the worker reads them from the checkpoint (`stored`). */
  readonly W: Float32Array | null;
  readonly stored: { readonly parts: readonly StoredRows[]; readonly row0: number } | null;
  readonly rows: number;
  readonly K: number;
}

export type ChunkReply =
  | { readonly id: number; readonly ok: true; readonly data: Uint8Array | Int8Array; readonly scales: Float32Array; readonly zeros: Uint8Array | null }
  /** userError: a LlamacError (bad checkpoint data), shown as is. */
  | { readonly id: number; readonly ok: false; readonly error: string; readonly userError: boolean };

const port = parentPort;
if (port) {
  port.on('message', (req: ChunkRequest) => {
    let reply: ChunkReply;
    const transfer: ArrayBuffer[] = [];
    try {
      const r = req.W ? runChunk(req.spec, req.W, req.rows, req.K) : runStoredChunk(req.spec, req.stored?.parts ?? [], req.stored?.row0 ?? 0, req.rows, req.K);
      reply = { id: req.id, ok: true, data: r.data, scales: r.scales, zeros: r.zeros };
      transfer.push(r.data.buffer as ArrayBuffer, r.scales.buffer as ArrayBuffer);
      if (r.zeros) transfer.push(r.zeros.buffer as ArrayBuffer);
    } catch (e) {
      const user = e instanceof LlamacError;
      reply = { id: req.id, ok: false, error: user ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e), userError: user };
    }
    port.postMessage(reply, transfer);
  });
}
