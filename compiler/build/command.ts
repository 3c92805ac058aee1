// The `llamac build` command: validate the build file (one-line errors before any work), run the
// cells, print the summary (or --json), write --junit and --report files. Returns the exit code.

import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { defaultCacheDir, formatSummary, runBuild, type BuildSummary } from './index.js';
import { junitXml } from './junit.js';
import { buildReportHtml } from './report.js';
import { loadBuildFile } from './schema.js';

export interface BuildCommandOptions {
  readonly out?: string;
  readonly jobs?: number;
  readonly cacheDir?: string;
  /** commander's --no-cache gives cache: false. */
  readonly cache: boolean;
  readonly json?: boolean;
  readonly junit?: string;
  readonly report?: string;
  readonly verbose?: boolean;
}

/** Writes a file through a temporary name beside it. */
export function writeAtomic(file: string, text: string): void {
  const dest = resolve(file);
  mkdirSync(dirname(dest), { recursive: true });
  const tmp = `${dest}.partial-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, dest);
}

export async function buildCommand(file: string, o: BuildCommandOptions, print: (s: string) => void, err: (s: string) => void): Promise<BuildSummary> {
  const spec = loadBuildFile(file, o.out);
  const summary = await runBuild(spec, {
    jobs: o.jobs ?? 1,
    cacheDir: o.cache ? resolve(o.cacheDir ?? defaultCacheDir()) : null,
    log: o.verbose ? err : () => {},
  });
  if (o.junit) writeAtomic(o.junit, junitXml(summary));
  if (o.report) writeAtomic(o.report, buildReportHtml(summary));
  print(o.json ? JSON.stringify(summary, null, 2) : formatSummary(summary));
  return summary;
}
