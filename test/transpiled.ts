// A runnable JavaScript copy of the CLI for tests that need a real process (signals, hangs,
// memory limits): the bin/, compiler/ and kernels-wgsl/ sources (the WebGPU target imports the WGSL host code) (and any test/ helper named) transpiled with
// TypeScript into a temp folder, as dist/ would be, so a test never runs a stale build.

import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import { ROOT } from './helpers.js';

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== '__snapshots__') out.push(...sources(p));
    } else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts')) {
      out.push(p);
    }
  }
  return out;
}

/** Transpile bin/, compiler/ and the named test files; returns the folder (remove it when done). */
export function transpileCli(testFiles: readonly string[] = []): string {
  const root = mkdtempSync(join(tmpdir(), 'llamac-js-'));
  const files = [...sources(join(ROOT, 'bin')), ...sources(join(ROOT, 'compiler')), ...sources(join(ROOT, 'kernels-wgsl')), ...testFiles.map((f) => join(ROOT, 'test', f))];
  for (const src of files) {
    const js = ts.transpileModule(readFileSync(src, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      fileName: src,
    }).outputText;
    const dest = join(root, relative(ROOT, src)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, js);
  }
  // What targets read at run time besides modules: the NEON runtime's C files, the WebGPU runtime
  // and WGSL sources, kernels-arm (presets, kernel sources).
  for (const dir of ['compiler', 'kernels-wgsl']) {
    cpSync(join(ROOT, dir), join(root, dir), { recursive: true, filter: (src) => statSync(src).isDirectory() || !src.endsWith('.ts') });
  }
  symlinkSync(join(ROOT, 'kernels-arm'), join(root, 'kernels-arm'), 'dir');
  cpSync(join(ROOT, 'package.json'), join(root, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'), 'dir');
  return root;
}

export function removeTranspiled(root: string): void {
  rmSync(root, { recursive: true, force: true });
}
