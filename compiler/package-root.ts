// The one walk up to llamac's package root, from sources and from dist/ alike: the version is read
// from its package.json, and the NEON and WebGPU targets copy kernel and runtime sources from it.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The nearest folder above this module holding package.json and every path in `markers`. */
export function packageRoot(markers: readonly string[], who: string): string {
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = dirname(dir)) {
    if ([...markers, 'package.json'].every((m) => existsSync(join(dir, m)))) return dir;
    if (dirname(dir) === dir) throw new Error(`${who}: package root (${['package.json', ...markers].join(', ')}) not found above ${start}`);
  }
}
