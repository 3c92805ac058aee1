// Worker thread: sha256 of the files named in workerData, posted back as [file, hex] pairs.
// Lets the manifest hash the source checkpoint on the second core while the writer runs.

import { parentPort, workerData } from 'node:worker_threads';
import { sha256File } from './sha256.js';

const files = workerData as string[];
const port = parentPort;
if (port) {
  try {
    port.postMessage({ ok: true, hashes: files.map((f) => [f, sha256File(f)]) });
  } catch (e) {
    port.postMessage({ ok: false, error: e instanceof Error ? e.message : String(e) });
  }
}
