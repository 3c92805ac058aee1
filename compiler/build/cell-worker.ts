// Worker-thread side of `llamac build --jobs N`: runs one cell (compile, verify, pack) in its own
// thread, so cells use several cores, and reports log lines and the result to the driver.

import { parentPort, workerData } from 'node:worker_threads';
import { LlamacError } from '../errors.js';
import { runCell, type CellOutput, type ResolvedModel } from './cell.js';
import type { CellSpec } from './schema.js';

export interface CellJob {
  readonly cell: CellSpec;
  readonly model: ResolvedModel;
  readonly key: string;
  readonly layouts: readonly string[];
  readonly outDir: string;
}

export type CellMessage =
  | { readonly kind: 'log'; readonly msg: string }
  | { readonly kind: 'done'; readonly output: CellOutput }
  | { readonly kind: 'error'; readonly message: string; readonly user: boolean };

const port = parentPort;
const job = workerData as CellJob | null;
if (port && job?.cell) {
  const send = (m: CellMessage) => port.postMessage(m);
  runCell(job.cell, job.model, job.key, job.layouts, job.outDir, (msg) => send({ kind: 'log', msg }))
    .then((output) => send({ kind: 'done', output }))
    .catch((e: unknown) => send({ kind: 'error', message: (e as Error).message ?? String(e), user: e instanceof LlamacError }));
}
