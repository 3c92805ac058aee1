// sha256 of a file, read in pieces: manifests (every target), the build cache and packages.

import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';

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
