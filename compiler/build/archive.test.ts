// Deterministic archives: same bytes whatever the files' mtimes, modes and the order given; fixed
// header fields; identical files stored once as hard links; a failed write leaves nothing behind.

import { chmodSync, createReadStream, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { afterEach, describe, expect, it } from 'vitest';
import { sha256File } from '../targets/onnx/artifact.js';
import { ARCHIVE_MTIME, writeArchive, type ArchiveFile } from './archive.js';

const temps: string[] = [];
afterEach(() => {
  while (temps.length) rmSync(temps.pop() as string, { recursive: true, force: true });
});
function temp(): string {
  const d = mkdtempSync(join(tmpdir(), 'llamac-archive-'));
  temps.push(d);
  return d;
}

function files(dir: string, contents: Record<string, string>): ArchiveFile[] {
  return Object.entries(contents).map(([path, text]) => {
    const file = join(dir, path.replace(/\//g, '_'));
    writeFileSync(file, text);
    return { path, file, bytes: Buffer.byteLength(text), sha256: sha256File(file) };
  });
}

async function entries(archive: string): Promise<tar.Header[]> {
  const out: tar.Header[] = [];
  const ex = tar.extract();
  ex.on('entry', (h, stream, next) => {
    out.push(h);
    stream.on('end', next);
    stream.resume();
  });
  await new Promise<void>((res, rej) => {
    ex.on('finish', res);
    ex.on('error', rej);
    createReadStream(archive).pipe(createGunzip()).pipe(ex);
  });
  return out;
}

const CONTENT = { 'b/model.onnx': 'graph', 'a.json': '{"x":1}', 'b/copy.json': '{"x":1}', 'b/c/deep.txt': 'deep' };

describe('writeArchive', () => {
  it('gives the same bytes for other mtimes, modes and input order', async () => {
    const d1 = temp();
    const d2 = temp();
    const f1 = files(d1, CONTENT);
    const f2 = files(d2, CONTENT).reverse();
    for (const f of f2) {
      utimesSync(f.file, new Date(2001, 1, 1), new Date(2001, 1, 1));
      chmodSync(f.file, 0o600);
    }
    await writeArchive(join(d1, 'p.tar.gz'), 'pkg', f1);
    await writeArchive(join(d2, 'p.tar.gz'), 'pkg', f2);
    expect(sha256File(join(d1, 'p.tar.gz'))).toBe(sha256File(join(d2, 'p.tar.gz')));
  });

  it('writes sorted entries with fixed headers, folders first, and duplicates as hard links', async () => {
    const d = temp();
    await writeArchive(join(d, 'p.tar.gz'), 'pkg', files(d, CONTENT));
    const hs = await entries(join(d, 'p.tar.gz'));
    expect(hs.map((h) => [h.name, h.type, h.linkname ?? null])).toEqual([
      ['pkg/', 'directory', null],
      ['pkg/a.json', 'file', null],
      ['pkg/b/', 'directory', null],
      ['pkg/b/c/', 'directory', null],
      ['pkg/b/c/deep.txt', 'file', null],
      ['pkg/b/copy.json', 'link', 'pkg/a.json'],
      ['pkg/b/model.onnx', 'file', null],
    ]);
    for (const h of hs) {
      expect(h.mtime?.getTime()).toBe(ARCHIVE_MTIME.getTime());
      expect([h.uid, h.gid, h.uname, h.gname]).toEqual([0, 0, '', '']);
      expect(h.mode).toBe(h.type === 'directory' ? 0o755 : 0o644);
    }
  });

  it('leaves neither the archive nor a partial file when a source cannot be read', async () => {
    const d = temp();
    const out = join(d, 'out');
    mkdirSync(out);
    const fs = files(d, CONTENT);
    fs.push({ path: 'z/missing.bin', file: join(d, 'missing.bin'), bytes: 10, sha256: 'x' });
    await expect(writeArchive(join(out, 'p.tar.gz'), 'pkg', fs)).rejects.toThrow(/ENOENT/);
    expect(readdirSync(out)).toEqual([]);
  });
});
