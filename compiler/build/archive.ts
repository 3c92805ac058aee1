// Deterministic .tar.gz packages: entries in sorted order, every header field fixed (mtime, uid,
// gid, owner names, modes), files with identical bytes stored once (later ones as hard links),
// gzip without a timestamp. tar-stream writes the tar; fflate (pure JavaScript) compresses, so the
// bytes do not depend on the zlib build or the CPU's SIMD paths of the machine that builds them.

import { closeSync, createReadStream, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Gzip } from 'fflate';
import tar from 'tar-stream';

/** 1980-01-01T00:00:00Z: the fixed mtime of every entry (the zip epoch; any fixed value would do). */
export const ARCHIVE_MTIME = new Date(Date.UTC(1980, 0, 1));

export interface ArchiveFile {
  /** Path inside the package folder, '/'-separated. */
  readonly path: string;
  /** The file on disk. */
  readonly file: string;
  readonly bytes: number;
  readonly sha256: string;
}

const FIXED = { mtime: ARCHIVE_MTIME, uid: 0, gid: 0, uname: '', gname: '', devmajor: 0, devminor: 0, linkname: '', size: 0 };

/** Byte order (not locale order), so every machine sorts alike. */
function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function parentDirs(paths: readonly string[]): string[] {
  const dirs = new Set<string>();
  for (const p of paths) {
    const parts = p.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  return [...dirs];
}

/**
 * Writes `root/` + files as a .tar.gz at `dest`, through a temporary name in the same folder that
 * is renamed at the end: an interrupted build leaves no half archive under the final name.
 */
export async function writeArchive(dest: string, root: string, files: readonly ArchiveFile[]): Promise<void> {
  const sorted = [...files].sort((a, b) => byteOrder(a.path, b.path));
  const entries: ({ kind: 'dir'; path: string } | { kind: 'file'; f: ArchiveFile })[] = [
    ...[root, ...parentDirs(sorted.map((f) => f.path)).map((d) => `${root}/${d}`)].map((path) => ({ kind: 'dir' as const, path })),
    ...sorted.map((f) => ({ kind: 'file' as const, f })),
  ];
  entries.sort((a, b) => byteOrder(a.kind === 'dir' ? `${a.path}/` : `${root}/${a.f.path}`, b.kind === 'dir' ? `${b.path}/` : `${root}/${b.f.path}`));

  const tmp = join(dirname(dest), `.${basename(dest)}.partial-${process.pid}`);
  const fd = openSync(tmp, 'w');
  try {
    const pack = tar.pack();
    let failed: Error | null = null;
    const gzip = new Gzip({ level: 6, mtime: 0 }, (chunk) => {
      let done = 0;
      while (done < chunk.byteLength) done += writeSync(fd, chunk, done, chunk.byteLength - done);
    });
    const finished = new Promise<void>((resolveDone, reject) => {
      pack.on('data', (chunk: unknown) => {
        try {
          gzip.push(chunk as Uint8Array);
        } catch (e) {
          failed = e as Error;
          pack.destroy(failed);
        }
      });
      pack.on('end', () => resolveDone());
      pack.on('error', reject);
    });
    const firstBySha = new Map<string, string>();
    for (const e of entries) {
      if (e.kind === 'dir') {
        await addEntry(pack, { ...FIXED, name: `${e.path}/`, type: 'directory', mode: 0o755 });
        continue;
      }
      const name = `${root}/${e.f.path}`;
      const key = `${e.f.sha256}:${e.f.bytes}`;
      const same = e.f.bytes > 0 ? firstBySha.get(key) : undefined;
      if (same !== undefined) {
        await addEntry(pack, { ...FIXED, name, type: 'link', linkname: same, mode: 0o644, size: 0 });
        continue;
      }
      firstBySha.set(key, name);
      await addFile(pack, { ...FIXED, name, type: 'file', mode: 0o644, size: e.f.bytes }, e.f.file);
    }
    pack.finalize();
    await finished;
    if (failed) throw failed;
    gzip.push(new Uint8Array(0), true);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, dest);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    rmSync(tmp, { force: true });
    throw e;
  }
}

function addEntry(pack: tar.Pack, header: tar.Header): Promise<void> {
  return new Promise((res, rej) => pack.entry(header, (err) => (err ? rej(err) : res())));
}

function addFile(pack: tar.Pack, header: tar.Header, file: string): Promise<void> {
  return new Promise((res, rej) => {
    const sink = pack.entry(header, (err) => (err ? rej(err) : res()));
    const src = createReadStream(file);
    src.on('error', rej);
    src.pipe(sink);
  });
}
