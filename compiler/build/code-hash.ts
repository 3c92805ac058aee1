// What the build cache must also key on besides the package version: llamac's own code. A
// development checkout (or a patched install) with changed sources keeps its version number, and a
// cache keyed by the version alone would hand back archives an older compiler made.

import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Folders whose files are build products or scratch, not code. */
const SKIP = new Set(['build', 'node_modules', '__snapshots__']);

function walk(dir: string, out: string[]): void {
  for (const name of readdirSync(dir).sort()) {
    if (SKIP.has(name) || name.startsWith('.')) continue;
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) walk(p, out);
    else if (st.isFile()) out.push(p);
  }
}

let cached: string | null = null;

/**
 * sha256 over the running compiler's modules (compiler/ as sources or as dist/compiler) and the
 * kernel sources the targets copy into artifacts (kernels-arm/, kernels-wgsl/ at the package root).
 */
export function llamacCodeHash(): string {
  if (cached) return cached;
  const compilerDir = dirname(dirname(fileURLToPath(import.meta.url)));
  let root = compilerDir;
  while (!existsSync(join(root, 'package.json')) && dirname(root) !== root) root = dirname(root);
  const files: string[] = [];
  walk(compilerDir, files);
  for (const k of ['kernels-arm', 'kernels-wgsl']) if (existsSync(join(root, k))) walk(join(root, k), files);
  const h = createHash('sha256');
  for (const f of files) h.update(relative(root, f)).update('\0').update(readFileSync(f)).update('\0');
  cached = h.digest('hex');
  return cached;
}
