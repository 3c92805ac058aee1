// One build cell: compile the model for a target and quant config, verify the emitted artifact,
// lay it out for its clients and pack it into a deterministic archive. Everything is staged in a
// temporary folder; only the finished archive is renamed into place.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { buildForTarget, loadModel, type BuildOptions } from '../compile.js';
import { loadTokenIds } from '../eval/perplexity.js';
import { makeTempDir, OUT_TEMP_PREFIX, RUN_TEMP_PREFIX } from '../output.js';
import { makeQuantConfig } from '../passes/quant-config.js';
import { sha256File } from '../hash.js';
import { loadGolden } from '../verify/golden.js';
import { LLAMAC_VERSION } from '../version.js';
import { writeArchive, type ArchiveFile } from './archive.js';
import { lookupLayout } from './layouts.js';
import type { CellSpec } from './schema.js';
import { verifyCell, type CellVerification } from './verify-cell.js';

export interface FileHash {
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
}

/** A model resolved to a local folder, with the hashes that identify it. */
export interface ResolvedModel {
  readonly dir: string;
  /** The commit a Hub revision resolved to (the snapshot folder name), or null for a local folder. */
  readonly commit: string | null;
  readonly files: readonly FileHash[];
  readonly goldenFiles: readonly FileHash[];
  readonly evalFile: FileHash | null;
}

export function hashFolder(dir: string): FileHash[] {
  return readdirSync(dir)
    .filter((f) => statSync(join(dir, f)).isFile())
    .sort()
    .map((f) => ({ path: f, bytes: statSync(join(dir, f)).size, sha256: sha256File(join(dir, f)) }));
}

export function hashFile(file: string): FileHash {
  return { path: basename(file), bytes: statSync(file).size, sha256: sha256File(file) };
}

/** What the cell's output depends on: its hash names the package and keys the cache. */
export function cellInputs(cell: CellSpec, m: ResolvedModel, layouts: readonly string[]): unknown {
  const calibration = cell.quant.cli.calibration;
  return {
    llamac: LLAMAC_VERSION,
    model: { name: cell.model.name, source: cell.model.hub ? cell.model.source : null, commit: m.commit, files: m.files },
    golden: m.goldenFiles,
    eval: m.evalFile ? { file: m.evalFile, max_len: cell.model.evalMaxLen } : null,
    target: { name: cell.target.name, options: sortedObject(cell.target.options) },
    quant: { ...cell.quant.cli, calibration: calibration && calibration !== 'self' && calibration !== 'auto' ? hashFile(calibration) : (calibration ?? null), fuse: cell.quant.fuse },
    layouts: [...layouts],
  };
}

function sortedObject(o: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** sha256 of the canonical JSON of the inputs (keys in insertion order, which cellInputs fixes). */
export function cellKey(inputs: unknown): string {
  return createHash('sha256').update(JSON.stringify(inputs)).digest('hex');
}

export function packageName(cell: CellSpec, key: string): string {
  return `${cell.id}-${key.slice(0, 12)}`;
}

/** Figures rounded to 4 significant digits, so ULP-level float differences between CPUs do not change the bytes. */
export function roundFigures<T>(v: T): T {
  return JSON.parse(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'number' && !Number.isInteger(x) ? Number(x.toPrecision(4)) : x))) as T;
}

function listFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const f of readdirSync(join(dir, prefix)).sort()) {
    const rel = prefix ? `${prefix}/${f}` : f;
    if (statSync(join(dir, rel)).isDirectory()) out.push(...listFiles(dir, rel));
    else out.push(rel);
  }
  return out;
}

export interface CellOutput {
  readonly verification: CellVerification;
  readonly archive: string;
  readonly sha256: string;
  readonly bytes: number;
}

/** Builds, verifies and packs one cell into `<outDir>/<package>.tar.gz`. */
export async function runCell(cell: CellSpec, m: ResolvedModel, key: string, layoutNames: readonly string[], outDir: string, log: (s: string) => void): Promise<CellOutput> {
  const name = packageName(cell, key);
  // Temp folders with a janitor (compiler/output.ts): removed however llamac dies.
  const stageDir = makeTempDir(tmpdir(), RUN_TEMP_PREFIX);
  const stage = stageDir.path;
  try {
    const q = cell.quant.cli;
    const calibration = q.calibration === undefined || q.calibration === 'self' || q.calibration === 'auto' ? q.calibration : loadTokenIds(q.calibration);
    const quant = makeQuantConfig({ ...q, calibration });
    const recorded: Record<string, string | number | boolean> = { target: cell.target.name, quant: q.quant, fuse: cell.quant.fuse };
    for (const [k, v] of Object.entries({ groupSize: q.groupSize, symmetric: q.symmetric, scaleDtype: q.scaleDtype, quantMethod: q.method, quantEmbeddings: q.quantEmbeddings })) {
      if (v !== undefined) recorded[k] = v;
    }
    // A calibration file is recorded by name only: paths differ between machines, the cell hash covers its bytes.
    if (q.calibration) recorded['calibration'] = q.calibration === 'self' || q.calibration === 'auto' ? q.calibration : basename(q.calibration);
    for (const [k, v] of Object.entries(cell.target.options)) recorded[k] = v;
    const opts: BuildOptions = { target: cell.target.name, quant, fuse: cell.quant.fuse, targetOptions: cell.target.options, recordedOptions: recorded, log };
    const loaded = await loadModel(m.dir);
    const built = await buildForTarget(loaded, opts);

    const pkg = join(stage, name);
    const artifactDir = join(pkg, 'artifact');
    mkdirSync(artifactDir, { recursive: true });
    await built.target.emit(built.graph, artifactDir, built.ctx);

    const verification = roundFigures(
      await verifyCell({
        built,
        artifactDir,
        golden: cell.model.golden ? loadGolden(cell.model.golden) : null,
        evalIds: cell.model.evalIds ? loadTokenIds(cell.model.evalIds) : null,
        evalMaxLen: cell.model.evalMaxLen ?? loaded.checkpoint.config.maxPositions,
      }),
    );

    const layouts: string[] = [];
    for (const l of layoutNames.map(lookupLayout)) {
      if (!l.applies(artifactDir)) continue;
      const dir = l.folder ? join(pkg, l.folder) : artifactDir;
      if (l.folder) mkdirSync(dir, { recursive: true });
      l.write(artifactDir, dir);
      layouts.push(l.name);
    }
    writeFileSync(join(pkg, 'verification.json'), JSON.stringify(verification, null, 2) + '\n');
    const files: ArchiveFile[] = listFiles(pkg).map((p) => ({ path: p, file: join(pkg, p), bytes: statSync(join(pkg, p)).size, sha256: sha256File(join(pkg, p)) }));
    const manifest = {
      format: 'llamac-package/1',
      llamac_version: LLAMAC_VERSION,
      package: name,
      cell: cell.id,
      inputs_sha256: key,
      model: { name: cell.model.name, source: cell.model.hub ? cell.model.source : basename(m.dir), revision: cell.model.hub ? cell.model.revision : null, commit: m.commit, files: m.files },
      target: { name: cell.target.name, options: sortedObject(cell.target.options) },
      quant: { label: cell.quant.label, options: recorded },
      layouts: Object.fromEntries(layouts.map((l) => [l, lookupLayout(l).folder || 'artifact'])),
      verification: { pass: verification.pass, against: verification.against },
      files: files.map(({ path, bytes, sha256 }) => ({ path, bytes, sha256 })),
    };
    writeFileSync(join(pkg, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
    files.push({ path: 'manifest.json', file: join(pkg, 'manifest.json'), ...statAndHash(join(pkg, 'manifest.json')) });
    if (!existsSync(outDir)) mkdirSync(outDir, { recursive: true });
    const archive = join(outDir, `${name}.tar.gz`);
    // Packed inside a temp folder beside the archive, then renamed: no half archive under any name.
    const slot = makeTempDir(outDir, OUT_TEMP_PREFIX);
    try {
      await writeArchive(join(slot.path, `${name}.tar.gz`), name, files);
      renameSync(join(slot.path, `${name}.tar.gz`), archive);
    } finally {
      slot.remove();
    }
    const h = statAndHash(archive);
    log(`${cell.id}: packed ${relative(process.cwd(), archive) || archive} (${h.bytes} bytes)`);
    return { verification, archive, sha256: h.sha256, bytes: h.bytes };
  } finally {
    stageDir.remove();
  }
}

function statAndHash(file: string): { bytes: number; sha256: string } {
  return { bytes: statSync(file).size, sha256: sha256File(file) };
}
