import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from './package-root.js';

/** llamac's version, read from package.json so artifacts and manifests name the compiler that made them. */
export const LLAMAC_VERSION: string = (JSON.parse(readFileSync(join(packageRoot([], 'llamac'), 'package.json'), 'utf8')) as { version: string }).version;
