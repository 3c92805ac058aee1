// llamac build: build-file validation (one-line errors before any work), the three fixtures x
// onnx x {f32, int8, int4} matrix built, verified and packed, the content cache (a second run
// rebuilds zero cells), and byte-identical archives from a second folder with another TMPDIR.

import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { sha256File } from '../compiler/targets/onnx/artifact.js';
import type { BuildSummary } from '../compiler/build/index.js';
import { FIXTURES, fixture, goldenDir, ROOT, runCli, tempDir } from './helpers.js';

/** A folder holding copies of the fixtures and goldens and a build file naming them by relative path. */
function workspace(buildFile: string, text: string): string {
  const d = tempDir('llamac-build-');
  for (const f of FIXTURES) {
    cpSync(fixture(f), join(d, 'fixtures', f), { recursive: true });
    cpSync(goldenDir(f), join(d, 'golden', f), { recursive: true });
  }
  writeFileSync(join(d, buildFile), text);
  return d;
}

async function expectBuildError(text: string, message: RegExp, file = 'build.json'): Promise<void> {
  const d = workspace(file, text);
  const r = await runCli('build', join(d, file), '--no-cache');
  expect(r.code).toBe(1);
  expect(r.err.split('\n')).toHaveLength(1);
  expect(r.err).toMatch(/^llamac: error: /);
  expect(r.err).toMatch(message);
  // Nothing was started: no package folder.
  expect(existsSync(join(d, 'out'))).toBe(false);
}

describe('build file validation', () => {
  const model = { path: 'fixtures/stories260K', golden: 'golden/stories260K' };
  it('names an unknown target', async () => {
    await expectBuildError(JSON.stringify({ models: [model], targets: ['onnx', 'tpu'], quant: ['f32'], out: 'out' }), /build\.json: targets\[1\]\.name: unknown target 'tpu' \(known: .*onnx/);
  });
  it('names a duplicate cell', async () => {
    await expectBuildError(JSON.stringify({ models: [model], targets: ['onnx'], quant: ['int4', { name: 'int4', method: 'rtn' }], out: 'out' }), /duplicate cell 'stories260K-onnx-int4'/);
  });
  it('names a missing model folder', async () => {
    await expectBuildError(JSON.stringify({ models: [{ path: 'fixtures/nope' }], targets: ['onnx'], quant: ['f32'], out: 'out' }), /models\[0\]\.path: .*fixtures\/nope does not exist/);
  });
  it('names an unknown key, a bad quant option and a bad target option (YAML)', async () => {
    await expectBuildError('models:\n  - path: fixtures/stories260K\n    gold: golden/stories260K\ntargets: [onnx]\nquant: [f32]\nout: out\n', /build\.yaml: models\[0\]\.gold: unknown key/, 'build.yaml');
    await expectBuildError('models: [{path: fixtures/stories260K}]\ntargets: [onnx]\nquant: [{name: int4, group_size: 48}]\nout: out\n', /build\.yaml: quant\[0\]: --group-size: 48/, 'build.yaml');
    await expectBuildError('models: [{path: fixtures/stories260K}]\ntargets: [{name: onnx, options: {onnx-ops: fast}}]\nquant: [f32]\nout: out\n', /build\.yaml: targets\[0\]\.options: --onnx-ops: expected ort \| standard, got 'fast'/, 'build.yaml');
  });
});

// int4 uses --quant-method rtn: the default (AWQ + GPTQ on 64 x 256 sampled calibration tokens)
// took 174 s wall / 57 s CPU for stories260K alone on this 2-core machine; rtn takes under a second
// and exercises the same packing, verification and packaging path.
const MATRIX = `# three fixtures x onnx x {f32, int8, int4}
models:
  - {path: fixtures/llama32-tiny, golden: golden/llama32-tiny}
  - {path: fixtures/llama32-tiny-untied, golden: golden/llama32-tiny-untied}
  - {path: fixtures/stories260K, golden: golden/stories260K}
targets: [onnx]
quant:
  - f32
  - int8
  - {name: int4, method: rtn}
out: packages
`;

function summaryOf(out: string): BuildSummary {
  return JSON.parse(out) as BuildSummary;
}

function archiveHashes(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir)
      .filter((f) => f.endsWith('.tar.gz'))
      .sort()
      .map((f) => [f, sha256File(join(dir, f))]),
  );
}

describe('docs/ci/github-actions.yml', () => {
  it('is a workflow whose only command is llamac build, caching both caches and uploading the packages', () => {
    const wf = parseYaml(readFileSync(join(ROOT, 'docs', 'ci', 'github-actions.yml'), 'utf8')) as { jobs: { build: { steps: { run?: string; uses?: string; with?: { path?: string } }[] } } };
    const steps = wf.jobs.build.steps;
    const runs = steps.filter((s) => s.run !== undefined).map((s) => s.run as string);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatch(/^npx --yes llamac@[\d.]+ build llamac-build\.yaml /);
    const cached = steps.filter((s) => s.uses?.startsWith('actions/cache@')).map((s) => s.with?.path);
    expect(cached).toEqual(['.hf', '.cache/llamac']);
    expect(steps.some((s) => s.uses?.startsWith('actions/upload-artifact@') && /packages\/\*\.tar\.gz/.test(s.with?.path ?? ''))).toBe(true);
  });
});

describe('build matrix', () => {
  it('builds, verifies and packs 9 cells; a second run rebuilds none; another folder and TMPDIR give identical archives', async () => {
    const a = workspace('build.yaml', MATRIX);
    const cache = join(a, 'cache');
    const first = await runCli('build', join(a, 'build.yaml'), '--json', '--jobs', '2', '--cache-dir', cache);
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    const s1 = summaryOf(first.out);
    expect(s1.cells.map((c) => c.id)).toEqual(FIXTURES.flatMap((f) => ['f32', 'int8', 'int4'].map((q) => `${f}-onnx-${q}`)));
    expect(s1.cells_rebuilt).toBe(9);
    for (const c of s1.cells) {
      expect(c.status, c.id).toBe('pass');
      expect(c.package && existsSync(c.package)).toBeTruthy();
      expect(sha256File(c.package as string)).toBe(c.sha256);
      const v = c.verification;
      expect(v?.against).toBe('golden');
      // f32 is held to transformers; int8/int4 to the interpreter on the same quantized graph.
      const enforced = c.quant === 'f32' ? v?.golden : v?.vs_reference;
      expect(enforced?.pass).toBe(true);
      for (const k of Object.values(enforced?.cases ?? {})) expect(k.max_abs_err).toBeLessThanOrEqual(1e-3);
      expect(v?.layers && Object.keys(v.layers.vs_reference).length).toBeGreaterThan(0);
    }

    const second = await runCli('build', join(a, 'build.yaml'), '--json', '--cache-dir', cache);
    const s2 = summaryOf(second.out);
    expect(second.code).toBe(0);
    expect(s2.cells_rebuilt).toBe(0);
    expect(s2.cells_cached).toBe(9);
    expect(s2.cells.map((c) => c.sha256)).toEqual(s1.cells.map((c) => c.sha256));

    // Another folder, another TMPDIR, another process: the compiled CLI, cells in worker threads.
    const b = workspace('build.yaml', MATRIX);
    const otherTmp = join(b, 'tmp');
    mkdirSync(otherTmp);
    const third = execFileSync(process.execPath, [join(ROOT, 'dist', 'bin', 'llamac.js'), 'build', join(b, 'build.yaml'), '--json', '--no-cache', '--jobs', '2'], {
      env: { ...process.env, TMPDIR: otherTmp },
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    expect(summaryOf(third).cells_rebuilt).toBe(9);
    // llamac's staging folders lived under that TMPDIR and are gone.
    expect(readdirSync(otherTmp).filter((f) => f.startsWith('llamac-'))).toEqual([]);
    const ha = archiveHashes(join(a, 'packages'));
    expect(Object.keys(ha)).toHaveLength(9);
    expect(archiveHashes(join(b, 'packages'))).toEqual(ha);
  }, 600_000);
});
