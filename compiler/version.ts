import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: the nearest folder above this module with package.json (source or dist/). */
function packageJson(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('llamac: package.json not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  return join(dir, 'package.json');
}

/** llamac's version, read from package.json so artifacts and manifests name the compiler that made them. */
export const LLAMAC_VERSION: string = (JSON.parse(readFileSync(packageJson(), 'utf8')) as { version: string }).version;
