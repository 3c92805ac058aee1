// sha256 of files for the manifest, in this thread or (for the multi-GB source checkpoint) in a
// worker thread that runs beside the writer.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sha256File } from '../../hash.js';
import { Worker } from 'node:worker_threads';

export { sha256File } from '../../hash.js';

export interface BackgroundHashes {
  /** file -> sha256 hex, for every file asked. */
  result(): Promise<ReadonlyMap<string, string>>;
  /** Stops the worker (on a failed build). */
  cancel(): void;
}

/**
 * Starts hashing `files` in a worker thread (compiled builds), or hashes them when asked
 * (running from the TypeScript sources, where the worker script does not exist).
 */
export function hashInBackground(files: readonly string[]): BackgroundHashes {
  const url = new URL('./hash-worker.js', import.meta.url);
  if (files.length === 0 || url.protocol !== 'file:' || !existsSync(fileURLToPath(url))) {
    return { result: async () => new Map(files.map((f) => [f, sha256File(f)])), cancel: () => {} };
  }
  const worker = new Worker(url, { workerData: [...files] });
  const done = new Promise<ReadonlyMap<string, string>>((resolve, reject) => {
    worker.once('message', (m: { ok: true; hashes: [string, string][] } | { ok: false; error: string }) => {
      if (m.ok) resolve(new Map(m.hashes));
      else reject(new Error(`sha256: ${m.error}`));
      void worker.terminate();
    });
    worker.once('error', reject);
  });
  done.catch(() => {});
  return { result: () => done, cancel: () => void worker.terminate() };
}
