import { readFileSync } from 'node:fs';

/** llamac's version, read from package.json so artifacts and manifests name the compiler that made them. */
export const LLAMAC_VERSION: string = (() => {
  const url = new URL('../../package.json', import.meta.url);
  try {
    return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
  } catch {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  }
})();
