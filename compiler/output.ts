// Temporary folders and the --out slot. A temp folder's name carries the pid of the process that
// made it (`<prefix><pid>-<random>`), so a later run can tell a live build's folder from one left
// by a process that was killed (SIGKILL, power loss) and sweep the latter. Every live temp folder
// is registered so a signal handler (bin/llamac.ts) can remove it before exiting.

import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, renameSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { LlamacError } from './errors.js';

/** Prefix of the hidden folder built beside --out and renamed onto it at the end. */
export const OUT_TEMP_PREFIX = '.llamac-tmp-';
/** Prefix of the folders verify/eval build their artifacts in (under the OS temp folder). */
export const RUN_TEMP_PREFIX = 'llamac-tmp-';

/** Cleanups of everything this process has made and not yet finished, for the signal handler. */
const pending = new Set<() => void>();

/** Run every pending cleanup (best effort: a signal handler must not throw). */
export function cleanupAll(): void {
  for (const f of [...pending]) {
    try {
      f();
    } catch {
      // Nothing useful to do while exiting on a signal.
    }
  }
  pending.clear();
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
export function makeTempDir(parent: string, prefix: string): TempDir {
  sweepStaleTemps(parent, prefix);
  const path = join(parent, `${prefix}${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(path, { mode: 0o777 });
  const remove = (): void => {
    pending.delete(remove);
    rmSync(path, { recursive: true, force: true });
  };
  pending.add(remove);
  return { path, remove, keep: () => pending.delete(remove) };
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

  let created: string | undefined;
  try {
    created = mkdirSync(parent, { recursive: true });
  } catch (e) {
    throw new LlamacError(`--out: cannot create ${parent}: ${errnoOf(e)}`);
  }
  // Parents this slot made, deepest first, removed again if the build fails.
  const madeParents: string[] = [];
  if (created) for (let d = parent; d.length >= created.length; d = dirname(d)) madeParents.push(d);
  const removeParents = (): void => {
    for (const d of madeParents) {
      try {
        rmdirSync(d);
      } catch {
        break;
      }
    }
  };
  let tmp: TempDir;
  try {
    tmp = makeTempDir(parent, OUT_TEMP_PREFIX);
  } catch (e) {
    removeParents();
    throw new LlamacError(`--out: cannot write in ${parent}: ${errnoOf(e)}`);
  }
  const abort = (): void => {
    pending.delete(abort);
    tmp.remove();
    removeParents();
  };
  pending.add(abort);
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
      pending.delete(abort);
    },
  };
}
