// Interruptions: SIGTERM/SIGINT at several points of a real `llamac compile` process leave no
// temp folder and no partial --out; a SIGKILLed run's temp folder is swept by the next run.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, listDir, tempDir } from './helpers.js';
import { removeTranspiled, transpileCli } from './transpiled.js';

let js = '';
beforeAll(() => {
  js = transpileCli();
});
afterAll(() => removeTranspiled(js));

interface Run {
  child: ChildProcess;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(args: readonly string[]): Run {
  const child = spawn(process.execPath, [join(js, 'bin', 'llamac.js'), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('exit', (code, signal) => res({ code, signal })));
  return { child, stderr: () => err, exit };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function waitFor(cond: () => boolean, what: string, ms = 60_000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

const tempsIn = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((n) => n.startsWith('.llamac-tmp-')) : []);
/** verify/eval temp folders of one process in the OS temp folder. */
const runTempsOf = (pid: number | undefined) => readdirSync(tmpdir()).filter((n) => n.startsWith(`llamac-tmp-${pid}-`));

/** A complete ONNX artifact (what a run that finished before the signal must have left). */
const complete = (out: string) => ['manifest.json', 'model.onnx', 'genai_config.json'].every((f) => existsSync(join(out, f)));

/** The janitor removes a dead run's temp folder moments after the exit. */
async function expectCleaned(parent: string, pid: number | undefined): Promise<void> {
  await waitFor(() => tempsIn(parent).length === 0 && runTempsOf(pid).length === 0, `the temp folders of ${pid} in ${parent} to be removed`, 10_000);
}

function hasFiles(dir: string): boolean {
  try {
    return readdirSync(dir).length > 0;
  } catch {
    return false;
  }
}

/** What a shell reports: 128 + the signal for a death by signal. */
const shellStatus = (r: { code: number | null; signal: NodeJS.Signals | null }) => r.code ?? 128 + (r.signal === 'SIGINT' ? 2 : r.signal === 'SIGTERM' ? 15 : 9);

describe('signals during compile', () => {
  it('SIGTERM / SIGINT during quantization: status 143 / 130 at once, temp folder and created parents removed', async () => {
    for (const [signal, status] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
      const parent = tempDir();
      const deeper = join(parent, 'new', 'deeper');
      const out = join(deeper, 'artifact');
      const run = start(['compile', fixture('stories260K'), '--target', 'onnx', '--quant', 'int4', '--out', out, '--verbose']);
      // The temp folder is claimed before the model is read; calibration then runs for a while
      // in synchronous loops, which must not delay the exit.
      await waitFor(() => tempsIn(deeper).length === 1, 'the temp folder');
      expect(tempsIn(deeper)[0]).toMatch(new RegExp(`^\\.llamac-tmp-${run.child.pid}-[0-9a-f]{8}$`));
      await waitFor(() => run.stderr().includes('calibration: sampling'), 'calibration to start');
      const t0 = Date.now();
      run.child.kill(signal);
      const r = await run.exit;
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(shellStatus(r)).toBe(status);
      await expectCleaned(parent, run.child.pid);
      // Parents the run created are gone too: the test's own folder is empty again.
      await waitFor(() => listDir(parent).length === 0, `the parents made in ${parent} to be removed: ${listDir(parent).join(', ')}`, 10_000);
      expect(run.stderr()).not.toMatch(/\n\s+at |internal error/);
    }
  });

  it('SIGTERM at spread-out moments of a short compile: never a temp folder or a partial --out', async () => {
    // How long an uninterrupted build takes here (the machine may be loaded).
    const t0 = Date.now();
    const full = start(['compile', fixture('stories260K'), '--target', 'onnx', '--out', join(tempDir(), 'full')]);
    expect((await full.exit).code).toBe(0);
    const T = Date.now() - t0;
    const outcomes: string[] = [];
    // Kill when the temp folder appears, when the first file lands in it, and at fractions of T
    // from process start to after the rename: each must leave nothing or the whole artifact.
    const points: Array<{ name: string; when: (parent: string) => Promise<void> }> = [
      { name: 'claimed', when: (parent) => waitFor(() => tempsIn(parent).length > 0, 'the temp folder') },
      { name: 'writing', when: (parent) => waitFor(() => existsSync(join(parent, 'artifact')) || tempsIn(parent).some((t) => hasFiles(join(parent, t))), 'a file in the temp folder') },
      { name: 'renamed', when: (parent) => waitFor(() => existsSync(join(parent, 'artifact')), 'the artifact') },
      ...[0, 0.2, 0.4, 0.6, 0.8, 0.9, 1.0, 1.2].map((f) => ({ name: `${f}T`, when: () => sleep(f * T) })),
    ];
    for (const point of points) {
      const parent = tempDir();
      const out = join(parent, 'artifact');
      const run = start(['compile', fixture('stories260K'), '--target', 'onnx', '--out', out]);
      await point.when(parent);
      const claimed = tempsIn(parent).length > 0;
      run.child.kill('SIGTERM');
      const r = await run.exit;
      await expectCleaned(parent, run.child.pid);
      // Either nothing at --out or the whole artifact (a signal after the rename may still kill).
      if (existsSync(out)) expect(complete(out)).toBe(true);
      if (point.name === 'claimed') expect([r.signal, claimed]).toEqual(['SIGTERM', true]);
      expect(run.stderr()).not.toMatch(/\n\s+at |internal error/);
      outcomes.push(`${point.name}:${r.signal ?? r.code}${claimed ? ':claimed' : ''}${existsSync(out) ? ':out' : ''}`);
    }
    console.log(`kill points (T = ${T} ms): ${outcomes.join(' ')}`);
  });

  it('a SIGKILLed build is cleaned up too; a folder left by a dead pid is swept by the next run, a live one kept', async () => {
    const parent = tempDir();
    const out = join(parent, 'artifact');
    const run = start(['compile', fixture('stories260K'), '--target', 'onnx', '--quant', 'int4', '--out', out]);
    await waitFor(() => tempsIn(parent).length === 1, 'the temp folder');
    run.child.kill('SIGKILL');
    await run.exit;
    await expectCleaned(parent, run.child.pid);
    // As if the janitor could not run (machine reset): the dead pid's folder stays until a later run.
    const dead = start(['--version']);
    await dead.exit;
    mkdirSync(join(parent, `.llamac-tmp-${dead.child.pid}-deadbeef`));
    mkdirSync(join(parent, `.llamac-tmp-${process.pid}-0badc0de`));
    const next = start(['compile', fixture('stories260K'), '--target', 'onnx', '--out', out]);
    expect((await next.exit).code).toBe(0);
    expect(complete(out)).toBe(true);
    expect(tempsIn(parent)).toEqual([`.llamac-tmp-${process.pid}-0badc0de`]);
  });
});
