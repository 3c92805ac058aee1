// Running a NEON artifact for verify/eval: build its llamac-run once (cached by the hash of the
// sources and build files: the runtime is generic, so one binary serves every model and quant),
// then keep one process per session, driven by llamac-run's --serve line protocol, under
// qemu-aarch64 on other hosts. The KV cache lives in that process.

import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { arch, tmpdir } from 'node:os';
import { join } from 'node:path';
import { LlamacError } from '../../errors.js';
import { sourceFiles } from './artifact.js';

/** Files of an artifact that go into the binary (the build cache key). */
function buildInputs(artifactDir: string): string[] {
  return ['Makefile', ...sourceFiles().keys()].map((f) => join(artifactDir, f));
}

/** Build the artifact's llamac-run (static, cross-compiled off aarch64) into a shared cache; returns the binary. */
export function buildRunner(artifactDir: string, log: (m: string) => void = () => {}): string {
  const h = createHash('sha256');
  for (const f of buildInputs(artifactDir)) {
    h.update(f.slice(artifactDir.length));
    h.update(readFileSync(f));
  }
  const key = h.digest('hex').slice(0, 20);
  const cache = join(process.env['LLAMAC_NEON_BUILD_CACHE'] ?? join(tmpdir(), 'llamac-neon-build'), key);
  const bin = join(cache, 'build', 'llamac-run');
  if (existsSync(bin)) return bin;
  mkdirSync(join(cache, '..'), { recursive: true });
  const tmp = mkdtempSync(`${cache}.tmp-`);
  try {
    for (const f of ['Makefile', ...sourceFiles().keys()]) cpSync(join(artifactDir, f), join(tmp, f));
    log(`neon: building llamac-run (${key})`);
    const r = spawnSync('make', ['-C', tmp, '-j2', 'build/llamac-run'], { encoding: 'utf8' });
    if (r.error || r.status !== 0) {
      const msg = (r.stderr || String(r.error)).trim().split('\n').slice(-3).join(' | ');
      throw new LlamacError(`--target neon: building llamac-run failed (needs aarch64-linux-gnu-gcc, see .ci/install-arm.sh): ${msg}`);
    }
    try {
      renameSync(tmp, cache);
    } catch {
      // another process finished the same build first
      rmSync(tmp, { recursive: true, force: true });
    }
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return bin;
}

export interface ServeOptions {
  /** qemu -cpu model (default QEMU_CPU or 'max'); ignored on an aarch64 host. */
  readonly cpu?: string;
  /** Force a kernel path (LK_PATH). */
  readonly path?: string;
  readonly verifySha256?: boolean;
}

/** One llamac-run --serve process: prefill / decode / reset, with the cache inside it. */
export class NeonProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private buf: Buffer = Buffer.alloc(0);
  private waiter: (() => void) | null = null;
  private exited: string | null = null;
  private stderr = '';
  readonly vocab: Promise<number>;

  constructor(bin: string, artifactDir: string, o: ServeOptions = {}) {
    const args = [artifactDir, '--serve', ...(o.verifySha256 === false ? ['--no-verify'] : [])];
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env['LK_PATH'];
    if (o.path) env['LK_PATH'] = o.path;
    const native = arch() === 'arm64';
    this.child = native ? spawn(bin, args, { env }) : spawn('qemu-aarch64', ['-cpu', o.cpu ?? process.env['QEMU_CPU'] ?? 'max', bin, ...args], { env });
    this.child.stdout.on('data', (d: Buffer) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
      this.wake();
    });
    this.child.stderr.on('data', (d: Buffer) => {
      this.stderr += d.toString();
    });
    this.child.on('exit', (code) => {
      this.exited = `llamac-run exited (${code}): ${this.stderr.trim().split('\n').pop() ?? ''}`;
      this.wake();
    });
    this.child.on('error', (e) => {
      this.exited = `cannot start llamac-run: ${e.message}`;
      this.wake();
    });
    this.vocab = this.line().then((l) => {
      const m = /^ready (\d+)$/.exec(l);
      if (!m) throw new LlamacError(`--target neon: ${l}`);
      return Number(m[1]);
    });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  private async until(ready: () => boolean): Promise<void> {
    while (!ready()) {
      if (this.exited) throw new LlamacError(`--target neon: ${this.exited}`);
      await new Promise<void>((r) => (this.waiter = r));
    }
  }

  private async line(): Promise<string> {
    await this.until(() => this.buf.indexOf(10) >= 0);
    const i = this.buf.indexOf(10);
    const l = this.buf.subarray(0, i).toString();
    this.buf = this.buf.subarray(i + 1);
    return l;
  }

  private async floats(cmd: string): Promise<Float32Array> {
    await this.vocab;
    this.child.stdin.write(cmd + '\n');
    const head = await this.line();
    const m = /^ok (\d+)$/.exec(head);
    if (!m) throw new LlamacError(`--target neon: ${head.replace(/^error /, '')}`);
    const bytes = Number(m[1]) * 4;
    await this.until(() => this.buf.length >= bytes);
    const out = new Float32Array(bytes / 4);
    new Uint8Array(out.buffer).set(this.buf.subarray(0, bytes));
    this.buf = this.buf.subarray(bytes);
    return out;
  }

  /** Empty the cache. */
  async reset(): Promise<void> {
    await this.floats('reset');
  }

  /** Append ids at RoPE positions start..; logits [n, vocab]. */
  prefill(ids: readonly number[], start: number): Promise<Float32Array> {
    return this.floats(`prefill ${start} ${ids.length} ${ids.join(' ')}`);
  }

  decode(id: number): Promise<Float32Array> {
    return this.floats(`decode ${id}`);
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((r) => this.child.on('exit', () => r()));
    this.child.stdin.end('quit\n');
    await done;
  }
}
