// Temporary folders and the --out slot. A temp folder's name carries the pid of the process that
// made it (`<prefix><pid>-<random>`), so a later run can tell a live build's folder from one a
// dead process left and sweep it.
//
// Interruption: llamac installs no signal handlers. Quantization and calibration run long
// synchronous loops, and a JavaScript handler would only run after them, so Ctrl-C would do
// nothing for a minute. Instead the process dies at once by the signal (the shell reports
// 128 + n: 130 for SIGINT, 143 for SIGTERM), and each temp folder has a janitor: a detached
// `/bin/sh` that waits for llamac's end (EOF on a pipe only llamac holds) and then removes the
// folder and any parents made for it. Released (killed) when the folder is renamed or removed;
// it also covers SIGKILL and crashes. Where it cannot start, the pid sweep is the fallback.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, renameSync, rmdirSync, rmSync, statSync } from 'node:fs';
import type { Socket } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { LlamacError } from './errors.js';

/** Prefix of the hidden folder built beside --out and renamed onto it at the end. */
export const OUT_TEMP_PREFIX = '.llamac-tmp-';
/** Prefix of the folders verify/eval build their artifacts in (under the OS temp folder). */
export const RUN_TEMP_PREFIX = 'llamac-tmp-';

// `read` returns at EOF, when llamac has exited however it exited; then remove the tree and
// the (still empty) parents, deepest first. rmdir never removes a folder with anything in it.
const JANITOR = 'read -r _; rm -rf -- "$1"; shift; for d do rmdir -- "$d" 2>/dev/null || exit 0; done';

/** Start a janitor for `tree` (and the empty parents to remove after it); returns its release. */
function startJanitor(tree: string, emptyParents: readonly string[]): () => void {
  let child: ChildProcess;
  try {
    child = spawn('/bin/sh', ['-c', JANITOR, 'llamac-janitor', tree, ...emptyParents], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  } catch {
    return () => {};
  }
  child.on('error', () => {});
  child.stdin?.on('error', () => {});
  // Neither the process nor the pipe keeps llamac's event loop alive.
  child.unref();
  (child.stdin as Socket | null)?.unref();
  return () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Remove `<prefix><pid>-*` folders in `parent` whose process is gone. Returns what was removed. */
export function sweepStaleTemps(parent: string, prefix: string): string[] {
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return [];
  }
  const removed: string[] = [];
  const re = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\d{1,10})-[0-9a-f]{8}$`);
  for (const name of names) {
    const m = re.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || pidAlive(pid)) continue;
    try {
      rmSync(join(parent, name), { recursive: true, force: true });
      removed.push(name);
    } catch {
      // Someone else's folder we cannot remove: leave it.
    }
  }
  return removed;
}

export interface TempDir {
  readonly path: string;
  /** Remove it (idempotent). */
  remove(): void;
  /** It was renamed into place: stop tracking it. */
  keep(): void;
}

/**
 * A fresh `<prefix><pid>-<random>` folder in `parent`, after sweeping stale ones. Made with
 * mode 0777 so the umask decides its permissions (mkdtemp's 0700 would leak into --out).
 */
export function makeTempDir(parent: string, prefix: string, emptyParents: readonly string[] = []): TempDir {
  sweepStaleTemps(parent, prefix);
  const path = join(parent, `${prefix}${process.pid}-${randomBytes(4).toString('hex')}`);
  // The janitor first: a death between the two leaves nothing behind either.
  const release = startJanitor(path, emptyParents);
  try {
    mkdirSync(path, { mode: 0o777 });
  } catch (e) {
    release();
    throw e;
  }
  return {
    path,
    remove: () => {
      rmSync(path, { recursive: true, force: true });
      release();
    },
    keep: release,
  };
}

export interface OutputSlot {
  /** The absolute --out folder. */
  readonly dest: string;
  /** The temporary folder to write into. */
  readonly tmp: string;
  /** Move the finished temp folder onto dest. */
  commit(): void;
  /** Remove the temp folder and any parent folders this slot created. */
  abort(): void;
}

const errnoOf = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? (e as Error).message;

/**
 * Check --out and claim a temp folder beside it, before any weight is read: an existing non-empty
 * folder, a path below a file, or a parent that cannot be written is refused up front.
 */
export function prepareOutput(out: string): OutputSlot {
  const dest = resolve(out);
  if (existsSync(dest)) {
    let st;
    try {
      st = statSync(dest);
    } catch (e) {
      throw new LlamacError(`--out: cannot use ${dest}: ${errnoOf(e)}`);
    }
    if (!st.isDirectory()) throw new LlamacError(`--out: ${dest} already exists and is not a folder`);
    let entries: string[];
    try {
      entries = readdirSync(dest);
    } catch (e) {
      throw new LlamacError(`--out: cannot read ${dest}: ${errnoOf(e)}`);
    }
    if (entries.length > 0) throw new LlamacError(`--out: ${dest} already exists and is not an empty folder`);
  }
  const parent = dirname(dest);
  if (parent === dest) throw new LlamacError(`--out: ${dest} is a filesystem root`);
  let existing = parent;
  while (!existsSync(existing)) existing = dirname(existing);
  if (!statSync(existing).isDirectory()) throw new LlamacError(`--out: ${dest} is below ${existing}, which is a file`);

  // Parents to make, outermost first. Not mkdirSync's recursive mode: where mkdir answers ENOENT
  // for a parent that exists (/proc, /sys) Node's recursive mkdir retries forever.
  const toMake: string[] = [];
  for (let d = parent; d !== existing; d = dirname(d)) toMake.unshift(d);
  // Parents this slot made, deepest first, removed again if the build fails.
  const madeParents: string[] = [];
  const removeParents = (): void => {
    for (const d of madeParents) {
      try {
        rmdirSync(d);
      } catch {
        break;
      }
    }
  };
  for (const d of toMake) {
    try {
      mkdirSync(d, { mode: 0o777 });
    } catch (e) {
      removeParents();
      throw new LlamacError(`--out: cannot create ${d}: ${errnoOf(e)}`);
    }
    madeParents.unshift(d);
  }
  let tmp: TempDir;
  try {
    tmp = makeTempDir(parent, OUT_TEMP_PREFIX, madeParents);
  } catch (e) {
    removeParents();
    throw new LlamacError(`--out: cannot write in ${parent}: ${errnoOf(e)}`);
  }
  const abort = (): void => {
    tmp.remove();
    removeParents();
  };
  return {
    dest,
    tmp: tmp.path,
    abort,
    commit: () => {
      try {
        // An existing empty folder keeps its mode; a new one has the umask's (see makeTempDir).
        if (existsSync(dest)) {
          chmodSync(tmp.path, statSync(dest).mode & 0o7777);
          rmdirSync(dest);
        }
        renameSync(tmp.path, dest);
      } catch (e) {
        abort();
        throw new LlamacError(`--out: cannot move the finished artifact to ${dest}: ${errnoOf(e)}`);
      }
      tmp.keep();
    },
  };
}
