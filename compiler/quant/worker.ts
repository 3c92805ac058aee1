// Worker-thread side of the pool: receives row chunks, runs the same kernel as the in-thread
// path, transfers the packed results back.

import { parentPort } from 'node:worker_threads';
import { runChunk } from './kernels.js';
import type { ChunkSpec } from './kernels.js';

export interface ChunkRequest {
  readonly id: number;
  readonly spec: ChunkSpec;
  readonly W: Float32Array;
  readonly rows: number;
  readonly K: number;
}

export type ChunkReply =
  | { readonly id: number; readonly ok: true; readonly data: Uint8Array | Int8Array; readonly scales: Float32Array; readonly zeros: Uint8Array | null }
  | { readonly id: number; readonly ok: false; readonly error: string };

const port = parentPort;
if (port) {
  port.on('message', (req: ChunkRequest) => {
    let reply: ChunkReply;
    const transfer: ArrayBuffer[] = [];
    try {
      const r = runChunk(req.spec, req.W, req.rows, req.K);
      reply = { id: req.id, ok: true, data: r.data, scales: r.scales, zeros: r.zeros };
      transfer.push(r.data.buffer as ArrayBuffer, r.scales.buffer as ArrayBuffer);
      if (r.zeros) transfer.push(r.zeros.buffer as ArrayBuffer);
    } catch (e) {
      reply = { id: req.id, ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) };
    }
    port.postMessage(reply, transfer);
  });
}
