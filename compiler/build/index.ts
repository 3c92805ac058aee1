// `llamac build <build-file>`: every cell of models x targets x quant configs compiled, verified
// and packed, skipped when the content cache holds a cell with the same inputs, run up to --jobs
// at a time in worker threads (cells of big checkpoints one at a time). A failing cell does not
// stop the others.

import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { resolveModelPath } from '../checkpoint/hub.js';
import { LlamacError } from '../errors.js';
import { makeTempDir, OUT_TEMP_PREFIX } from '../output.js';
import { sha256File } from '../hash.js';
import { LLAMAC_VERSION } from '../version.js';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { llamacCodeHash } from './code-hash.js';
import { cellInputs, cellKey, hashFile, hashFolder, packageName, runCell, type CellOutput, type ResolvedModel } from './cell.js';
import type { CellJob, CellMessage } from './cell-worker.js';
import type { BuildSpec, CellSpec, ModelSpec } from './schema.js';
import type { CellVerification } from './verify-cell.js';

export interface BuildRunOptions {
  readonly jobs: number;
  /** Cells whose checkpoint is at least this many bytes run one at a time (quantizing a 1B model holds GBs). */
  readonly heavyBytes?: number;
  /** null = no cache. */
  readonly cacheDir: string | null;
  readonly log: (msg: string) => void;
}

export type CellStatus = 'pass' | 'fail' | 'error';

export interface CellSummary {
  readonly id: string;
  readonly model: string;
  readonly target: string;
  readonly quant: string;
  readonly status: CellStatus;
  readonly cached: boolean;
  readonly seconds: number;
  readonly package: string | null;
  readonly sha256: string | null;
  readonly bytes: number | null;
  readonly verification: CellVerification | null;
  readonly error: string | null;
}

export interface BuildSummary {
  readonly build_file: string;
  readonly out: string;
  readonly llamac_version: string;
  readonly pass: boolean;
  readonly cells_total: number;
  readonly cells_rebuilt: number;
  readonly cells_cached: number;
  readonly cells_failed: number;
  readonly seconds: number;
  readonly cells: readonly CellSummary[];
}

/** Default cache: $XDG_CACHE_HOME/llamac/build, else ~/.cache/llamac/build. */
export function defaultCacheDir(): string {
  const base = process.env['XDG_CACHE_HOME'] || join(homedir(), '.cache');
  return join(base, 'llamac', 'build');
}

async function resolveModel(m: ModelSpec): Promise<ResolvedModel> {
  const dir = m.hub ? await resolveModelPath(m.source, { revision: m.revision }) : m.source;
  return {
    dir,
    commit: m.hub ? basename(dir) : null,
    files: hashFolder(dir),
    goldenFiles: m.golden ? hashFolder(m.golden) : [],
    evalFile: m.evalIds ? hashFile(m.evalIds) : null,
  };
}

interface CacheEntry {
  readonly archive: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly verification: CellVerification;
}

function cacheLookup(cacheDir: string, key: string, name: string): CacheEntry | null {
  const dir = join(cacheDir, key);
  const meta = join(dir, 'cell.json');
  const archive = join(dir, `${name}.tar.gz`);
  if (!existsSync(meta) || !existsSync(archive)) return null;
  const e = JSON.parse(readFileSync(meta, 'utf8')) as Omit<CacheEntry, 'archive'>;
  // A damaged or truncated entry is a miss, not a wrong package.
  if (statSync(archive).size !== e.bytes || sha256File(archive) !== e.sha256) return null;
  return { ...e, archive };
}

function cacheStore(cacheDir: string, key: string, archive: string, e: Omit<CacheEntry, 'archive'>): void {
  mkdirSync(cacheDir, { recursive: true });
  const final = join(cacheDir, key);
  if (existsSync(join(final, 'cell.json'))) return;
  const tmp = makeTempDir(cacheDir, OUT_TEMP_PREFIX);
  try {
    copyFileSync(archive, join(tmp.path, basename(archive)));
    writeFileSync(join(tmp.path, 'cell.json'), JSON.stringify(e) + '\n');
    rmSync(final, { recursive: true, force: true });
    renameSync(tmp.path, final);
    tmp.keep();
  } catch (err) {
    tmp.remove();
    throw err;
  }
}

/** Copies a cached archive into out/ through a temporary name. */
function placeArchive(src: string, dest: string): void {
  if (existsSync(dest) && sha256File(dest) === sha256File(src)) return;
  const slot = makeTempDir(dirname(dest), OUT_TEMP_PREFIX);
  try {
    copyFileSync(src, join(slot.path, basename(dest)));
    renameSync(join(slot.path, basename(dest)), dest);
  } finally {
    slot.remove();
  }
}

function workerUrl(): URL | null {
  const url = new URL('./cell-worker.js', import.meta.url);
  return url.protocol === 'file:' && existsSync(fileURLToPath(url)) ? url : null;
}

/**
 * Runs a cell in a worker thread when the compiled worker exists (dist/), else in this thread
 * (running from the TypeScript sources, e.g. under vitest, where Node 20 cannot load .ts workers).
 */
function runCellThreaded(job: CellJob, threaded: boolean, log: (s: string) => void): Promise<CellOutput> {
  const url = threaded ? workerUrl() : null;
  if (!url) return runCell(job.cell, job.model, job.key, job.layouts, job.outDir, log);
  return new Promise((resolveCell, reject) => {
    const w = new Worker(url, { workerData: job });
    let settled = false;
    w.on('message', (m: CellMessage) => {
      if (m.kind === 'log') log(m.msg);
      else {
        settled = true;
        if (m.kind === 'done') resolveCell(m.output);
        else reject(m.user ? new LlamacError(m.message) : new Error(m.message));
        void w.terminate();
      }
    });
    w.on('error', (e) => {
      settled = true;
      reject(e);
    });
    w.on('exit', (code) => {
      if (!settled) reject(new Error(`cell worker exited with code ${code}`));
    });
  });
}

/** Runs `tasks` with at most `jobs` in flight; heavy ones also hold the single heavy slot. */
async function runPool<T>(items: readonly T[], jobs: number, heavy: (t: T) => boolean, run: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  let heavyBusy: Promise<void> = Promise.resolve();
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      if (heavy(item)) {
        const prev = heavyBusy;
        let release = () => {};
        heavyBusy = new Promise<void>((r) => (release = r));
        await prev;
        try {
          await run(item);
        } finally {
          release();
        }
      } else await run(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, items.length)) }, worker));
}

export async function runBuild(spec: BuildSpec, o: BuildRunOptions): Promise<BuildSummary> {
  const t0 = performance.now();
  // Every model resolved and hashed before any cell runs: a missing model fails the build up front.
  const models = new Map<string, ResolvedModel>();
  for (const c of spec.cells) {
    if (!models.has(c.model.name)) models.set(c.model.name, await resolveModel(c.model));
  }
  mkdirSync(spec.out, { recursive: true });
  const heavyBytes = o.heavyBytes ?? 512 * 2 ** 20;
  const weightBytes = (m: ResolvedModel) => m.files.filter((f) => f.path.endsWith('.safetensors')).reduce((s, f) => s + f.bytes, 0);
  const results = new Map<string, CellSummary>();

  const runOne = async (cell: CellSpec) => {
    const m = models.get(cell.model.name) as ResolvedModel;
    const key = cellKey(cellInputs(cell, m, spec.layouts));
    const name = packageName(cell, key);
    const dest = join(spec.out, `${name}.tar.gz`);
    const base = { id: cell.id, model: cell.model.name, target: cell.target.label, quant: cell.quant.label };
    const c0 = performance.now();
    // The package is named by its inputs; the cache entry also by llamac's code (see code-hash.ts).
    const cacheKey = cellKey({ key, code: llamacCodeHash() });
    const hit = o.cacheDir ? cacheLookup(o.cacheDir, cacheKey, name) : null;
    if (hit) {
      placeArchive(hit.archive, dest);
      o.log(`${cell.id}: cached (${name})`);
      results.set(cell.id, { ...base, status: 'pass', cached: true, seconds: (performance.now() - c0) / 1000, package: dest, sha256: hit.sha256, bytes: hit.bytes, verification: hit.verification, error: null });
      return;
    }
    o.log(`${cell.id}: building`);
    try {
      const r = await runCellThreaded({ cell, model: m, key, layouts: spec.layouts, outDir: spec.out }, o.jobs > 1, o.log);
      const pass = r.verification.pass;
      if (pass && o.cacheDir) cacheStore(o.cacheDir, cacheKey, r.archive, { sha256: r.sha256, bytes: r.bytes, verification: r.verification });
      // A package that failed verification is not left where CI uploads packages from.
      if (!pass) rmSync(r.archive, { force: true });
      o.log(`${cell.id}: ${pass ? 'pass' : 'FAIL'}`);
      results.set(cell.id, { ...base, status: pass ? 'pass' : 'fail', cached: false, seconds: (performance.now() - c0) / 1000, package: pass ? r.archive : null, sha256: pass ? r.sha256 : null, bytes: pass ? r.bytes : null, verification: r.verification, error: null });
    } catch (e) {
      const msg = e instanceof LlamacError ? e.message : `internal error: ${(e as Error).message}`;
      o.log(`${cell.id}: error: ${msg}`);
      results.set(cell.id, { ...base, status: 'error', cached: false, seconds: (performance.now() - c0) / 1000, package: null, sha256: null, bytes: null, verification: null, error: msg });
    }
  };

  await runPool(spec.cells, o.jobs, (c) => weightBytes(models.get(c.model.name) as ResolvedModel) >= heavyBytes, runOne);
  const cells = spec.cells.map((c) => results.get(c.id) as CellSummary);
  const failed = cells.filter((c) => c.status !== 'pass').length;
  return {
    build_file: spec.file,
    out: spec.out,
    llamac_version: LLAMAC_VERSION,
    pass: failed === 0,
    cells_total: cells.length,
    cells_rebuilt: cells.filter((c) => !c.cached).length,
    cells_cached: cells.filter((c) => c.cached).length,
    cells_failed: failed,
    seconds: (performance.now() - t0) / 1000,
    cells,
  };
}

export function formatSummary(s: BuildSummary): string {
  const lines = s.cells.map((c) => {
    const v = c.verification;
    const worst = v ? worstLogitError(v) : null;
    const fig = worst !== null ? ` max_abs_err=${worst.toExponential(2)}` : '';
    const ppl = v?.perplexity ? ` ppl=${v.perplexity.ppl.toFixed(3)}` : '';
    return `${c.status.toUpperCase().padEnd(5)} ${c.id.padEnd(40)} ${c.cached ? 'cached ' : `${c.seconds.toFixed(1)}s`.padEnd(7)}${fig}${ppl}${c.package ? ` ${basename(c.package)}` : ''}${c.error ? ` ${c.error}` : ''}`;
  });
  lines.push(`${s.cells_total} cells: ${s.cells_total - s.cells_failed} passed, ${s.cells_failed} failed; ${s.cells_rebuilt} built, ${s.cells_cached} from cache (${s.seconds.toFixed(1)}s)`);
  return lines.join('\n');
}

/** The enforced comparison's worst per-case logit error (vs the interpreter when held to it, else vs golden). */
export function worstLogitError(v: CellVerification): number | null {
  const r = v.vs_reference ?? v.golden;
  if (!r) return null;
  const errs = Object.values(r.cases).map((c) => c.max_abs_err);
  if (r.greedy) errs.push(r.greedy.max_abs_err);
  return Math.max(...errs);
}
