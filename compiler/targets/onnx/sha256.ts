// sha256 of files for the manifest, in this thread or (for the multi-GB source checkpoint) in a
// worker thread that runs beside the writer.

import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/** sha256 of a file, read in 16 MiB pieces (the data file can exceed memory comfort). */
export function sha256File(file: string): string {
  const h = createHash('sha256');
  const buf = new Uint8Array(16 << 20);
  const fd = openSync(file, 'r');
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

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
