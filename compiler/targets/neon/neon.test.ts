// The NEON target end to end under qemu-aarch64: artifacts emitted once per configuration and
// reused; llamac-run built once (cached by source hash). Needs .ci/install-arm.sh.
//   - f32 passes transformers' float32 bounds on all three fixtures (far case and greedy included)
//   - int8 / int4 equal the interpreter in its int8-activation mode (the target's declared bound)
//   - every kernel path (LK_PATH under -cpu max, cortex-a76, cortex-a72) gives the same logits
//   - eval (stories260K perplexity) equals the reference's with the same activation quantization
//   - bad artifacts are refused at load with one line; rebuilds are byte-identical

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTokenIds, perplexity } from '../../eval/perplexity.js';
import { loadGolden } from '../../verify/golden.js';
import { goldenFromRunner } from '../../verify/reference-golden.js';
import { verifyAgainstGolden } from '../../verify/verify.js';
import { referenceRunner } from '../runner.js';
import { neonRunner, neonTarget } from './index.js';
import { emitFixture, REPO, testQuant, type BuiltArtifact } from './neon.test-helpers.js';
import { buildRunner, NeonProcess } from './runner.js';

const FIXTURES = ['llama32-tiny', 'llama32-tiny-untied', 'stories260K'];
const made: BuiltArtifact[] = [];
const artifacts = new Map<string, BuiltArtifact>();
let bin = '';

async function artifact(key: string, fixture: string, quant: 'f32' | 'f16' | 'int8' | 'int4', options: Record<string, string> = {}, fuse = true): Promise<BuiltArtifact> {
  let a = artifacts.get(key);
  if (!a) {
    a = await emitFixture(fixture, testQuant(quant), options, fuse);
    made.push(a);
    artifacts.set(key, a);
  }
  return a;
}

beforeAll(async () => {
  for (const tool of ['aarch64-linux-gnu-gcc', 'qemu-aarch64', 'make']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) throw new Error(`${tool} missing: run .ci/install-arm.sh`);
  }
  bin = buildRunner((await artifact('tiny-f32', 'llama32-tiny', 'f32')).dir);
}, 300_000);

afterAll(() => {
  for (const a of made) rmSync(a.dir, { recursive: true, force: true });
});

describe('neon target under qemu-aarch64', () => {
  it.each(FIXTURES)('%s f32 passes the float32 golden bounds (every case incl. far, greedy through the KV cache)', async (fx) => {
    const a = await artifact(`${fx}-f32`, fx, 'f32');
    const runner = await neonRunner(a.dir, () => {});
    try {
      const report = await verifyAgainstGolden(runner, loadGolden(join(REPO, 'golden', fx)), 'f32', neonTarget.bounds.f32.golden!);
      expect(report.pass, JSON.stringify(report)).toBe(true);
      expect(report.greedy?.match).toBe(1);
    } finally {
      await runner.dispose();
    }
  }, 180_000);

  it('the unfused graph (--no-fuse: rope, attention, split, silu, mul) lowers too and passes the float32 bounds', async () => {
    const a = await artifact('untied-f32-nofuse', 'llama32-tiny-untied', 'f32', {}, false);
    expect(a.graph.nodes.some((n) => n.op === 'attention')).toBe(true);
    const runner = await neonRunner(a.dir, () => {});
    try {
      const report = await verifyAgainstGolden(runner, loadGolden(join(REPO, 'golden', 'llama32-tiny-untied')), 'f32', neonTarget.bounds.f32.golden!);
      expect(report.pass, JSON.stringify(report)).toBe(true);
    } finally {
      await runner.dispose();
    }
  }, 180_000);

  it('a prefill past --max-seq is refused with one line, and the session goes on', async () => {
    const a = await emitFixture('stories260K', testQuant('f32'), { maxSeq: '8' });
    made.push(a);
    const runner = await neonRunner(a.dir, () => {});
    try {
      await expect(runner.prefill(Array.from({ length: 9 }, (_, i) => i + 1), 0)).rejects.toThrow(/exceed the KV cache of 8 \(compile with a larger --max-seq\)/);
      runner.reset();
      expect((await runner.prefill([1, 2, 3], 0)).length).toBe(3 * 512);
    } finally {
      await runner.dispose();
    }
  }, 120_000);

  it.each([
    ['llama32-tiny-untied', 'int8'],
    ['stories260K', 'int4'],
  ] as const)('%s %s equals the interpreter with int8 activations (declared bound, identical greedy tokens)', async (fx, q) => {
    const a = await artifact(`${fx}-${q}`, fx, q);
    const runner = await neonRunner(a.dir, () => {});
    const ref = referenceRunner(a.graph, a.reader, neonTarget.referenceMode(a.ctx.options));
    try {
      const golden = await goldenFromRunner(loadGolden(join(REPO, 'golden', fx)), ref);
      const report = await verifyAgainstGolden(runner, golden, q, neonTarget.bounds[q].vsReference!);
      expect(report.pass, JSON.stringify(report)).toBe(true);
      expect(report.greedy?.match).toBe(1);
      // Like for like: the median logit row is within 1e-4 of the int8-activation interpreter and
      // at least 10x closer to it than to the float-activation one (the activation-quantization
      // error; mean KL against it measured <= 4e-3, bounded at 1e-2).
      const floatRef = await goldenFromRunner(loadGolden(join(REPO, 'golden', fx)), referenceRunner(a.graph, a.reader, { actQuant: 'none' }));
      const vsFloat = await verifyAgainstGolden(runner, floatRef, q, { label: 'vs float activations', maxAbs: null, minTop1: null, maxKl: 1e-2, greedyMatch: 0 });
      expect(vsFloat.pass, JSON.stringify(vsFloat)).toBe(true);
      const V = a.graph.info.vocabSize;
      const medians: number[] = [];
      for (const g of [golden, floatRef]) {
        const errs: number[] = [];
        for (const c of g.cases) {
          runner.reset();
          const got = await runner.prefill(c.inputIds, c.startPosition);
          for (let r = 0; r < c.inputIds.length; r++) {
            let m = 0;
            for (let i = r * V; i < (r + 1) * V; i++) m = Math.max(m, Math.abs(got[i] - c.logits[i]));
            errs.push(m);
          }
        }
        errs.sort((x, y) => x - y);
        medians.push(errs[errs.length >> 1]);
      }
      expect(medians[0]).toBeLessThan(1e-4);
      expect(medians[1]).toBeGreaterThan(10 * medians[0]);
    } finally {
      await runner.dispose();
    }
  }, 240_000);

  it('every kernel path gives the same logits: LK_PATH under -cpu max, and cortex-a76 / cortex-a72', async () => {
    const a = await artifact('stories260K-int4', 'stories260K', 'int4');
    const golden = loadGolden(join(REPO, 'golden', 'stories260K'));
    const c = golden.cases.find((x) => x.name === 'long') ?? golden.cases[0];
    const runs: Array<{ cpu: string; path?: string }> = [
      { cpu: 'max', path: 'scalar' },
      { cpu: 'max', path: 'neon' },
      { cpu: 'max', path: 'dotprod' },
      { cpu: 'max', path: 'i8mm' },
      { cpu: 'cortex-a76' },
      { cpu: 'cortex-a72' },
    ];
    const out: Float32Array[] = [];
    for (const r of runs) {
      const p = new NeonProcess(bin, a.dir, { cpu: r.cpu, path: r.path });
      try {
        const prefill = await p.prefill(c.inputIds, c.startPosition);
        const step = await p.decode(c.inputIds[0]);
        const both = new Float32Array(prefill.length + step.length);
        both.set(prefill);
        both.set(step, prefill.length);
        out.push(both);
      } finally {
        await p.close();
      }
    }
    // The int paths are bit-identical twins (kernels-arm tests demand it) and the ops run NEON on
    // every path but scalar: all five non-scalar runs agree exactly.
    for (let i = 2; i < out.length; i++) expect(Buffer.from(out[i].buffer).equals(Buffer.from(out[1].buffer)), `${runs[i].cpu} ${runs[i].path ?? ''}`).toBe(true);
    // The scalar ops (libm exp, scalar sums) differ from the NEON ones by float rounding only.
    let worst = 0;
    for (let i = 0; i < out[0].length; i++) worst = Math.max(worst, Math.abs(out[0][i] - out[1][i]));
    expect(worst).toBeLessThan(neonTarget.bounds.int4.vsReference!.maxAbs!);
  }, 240_000);

  it('eval: stories260K int8 perplexity equals the reference with int8 activations within 1e-3 mean NLL', async () => {
    const a = await artifact('stories260K-int8', 'stories260K', 'int8');
    const stories = loadTokenIds(join(REPO, 'fixtures/stories260K-eval/tinystories-valid-ids.json'));
    const maxLen = a.graph.info.maxPositions;
    const runner = await neonRunner(a.dir, () => {});
    try {
      const got = await perplexity(runner, stories, maxLen);
      const ref = await perplexity(referenceRunner(a.graph, a.reader, { actQuant: 'int8' }), stories, maxLen);
      expect(got.tokens).toBe(ref.tokens);
      expect(Math.abs(got.mean_nll - ref.mean_nll)).toBeLessThanOrEqual(1e-3);
    } finally {
      await runner.dispose();
    }
  }, 300_000);

  it('a rebuild is byte-identical (every file of the artifact)', async () => {
    const a = await artifact('tiny-f32', 'llama32-tiny', 'f32');
    const b = await emitFixture('llama32-tiny', testQuant('f32'));
    made.push(b);
    const manifest = (d: string) => readFileSync(join(d, 'manifest.json'), 'utf8');
    expect(manifest(b.dir)).toBe(manifest(a.dir));
    const m = JSON.parse(manifest(a.dir)) as { files: Record<string, { sha256: string; size: number }> };
    expect(Object.keys(m.files)).toEqual(expect.arrayContaining(['weights.bin', 'Makefile', 'CMakeLists.txt', 'README.md', 'runtime/lc_model.c', 'kernels/src/pack.c']));
    expect(readFileSync(join(b.dir, 'weights.bin')).equals(readFileSync(join(a.dir, 'weights.bin')))).toBe(true);
    // the op list, reviewable: a lowering change shows up here
    expect(readFileSync(join(a.dir, 'program.txt'), 'utf8')).toMatchSnapshot();
  }, 120_000);

  describe('bad artifacts are refused at load with one line', () => {
    let src = '';
    const tmp: string[] = [];
    beforeAll(async () => {
      src = (await artifact('tiny-f32', 'llama32-tiny', 'f32')).dir;
    });
    afterAll(() => tmp.forEach((d) => rmSync(d, { recursive: true, force: true })));

    /** A copy of the artifact with weights.bin (and the manifest's entry for it) altered. */
    function broken(edit: (w: Buffer) => Buffer, fixManifest: boolean): string {
      const d = mkdtempSync(join(tmpdir(), 'llamac-neon-bad-'));
      tmp.push(d);
      for (const f of readdirSync(src)) if (f === 'manifest.json' || f === 'weights.bin') copyFileSync(join(src, f), join(d, f));
      const w = edit(readFileSync(join(d, 'weights.bin')));
      writeFileSync(join(d, 'weights.bin'), w);
      if (fixManifest) {
        // keep the manifest consistent so the runtime's own checks of weights.bin are what refuses it
        const m = JSON.parse(readFileSync(join(d, 'manifest.json'), 'utf8')) as { files: Record<string, { sha256: string; size: number }> };
        m.files['weights.bin'] = { sha256: createHash('sha256').update(w).digest('hex'), size: w.length };
        writeFileSync(join(d, 'manifest.json'), JSON.stringify(m, null, 2));
      }
      return d;
    }
    function load(dir: string): { status: number | null; stderr: string } {
      const r = spawnSync('qemu-aarch64', ['-cpu', 'max', bin, dir, '--ids', '1,2,3'], { encoding: 'utf8', timeout: 60_000 });
      return { status: r.status, stderr: r.stderr };
    }
    const u32 = (w: Buffer, at: number, v: number): Buffer => {
      const c = Buffer.from(w);
      c.writeUInt32LE(v, at);
      return c;
    };
    const cases: Array<[string, (w: Buffer) => Buffer, boolean, RegExp]> = [
      ['truncated weights.bin (manifest updated)', (w) => w.subarray(0, w.length - 4096), true, /truncated|outside/],
      ['truncated weights.bin (manifest not updated)', (w) => w.subarray(0, w.length - 100), false, /manifest\.json says/],
      ['wrong magic', (w) => Buffer.concat([Buffer.from('GGUFxxxx'), w.subarray(8)]), true, /bad magic/],
      ['wrong format version', (w) => u32(w, 8, 2), true, /format version 2/],
      ['one flipped byte (manifest sha256 mismatch)', (w) => u32(w, w.length - 8, w.readUInt32LE(w.length - 8) ^ 1), false, /sha256/],
      ['a tensor offset past the end', (w) => u32(w, 128 + 24, 0x7fffffc0), true, /tensor 0/],
      ['an op reading past its buffer', (w) => u32(w, Number(w.readBigUInt64LE(88)) + 4 + 8, 1 << 20), true, /op 0/],
    ];
    it.each(cases)('%s', (_name, edit, fix, why) => {
      const r = load(broken(edit, fix));
      expect(r.status).toBe(1);
      const lines = r.stderr.trim().split('\n');
      expect(lines.length, r.stderr).toBe(1);
      expect(lines[0]).toMatch(/^llamac-run: error: /);
      expect(lines[0]).toMatch(why);
    });
  });

  it('options are validated: --cpu must be a preset of kernels-arm/presets.mk', () => {
    expect(() => neonTarget.checkOptions({ cpu: 'pentium' })).toThrow(/--cpu: expected generic \| dotprod/);
    expect(() => neonTarget.checkOptions({ kvDtype: 'bf16' })).toThrow(/--kv-dtype/);
    expect(() => neonTarget.checkOptions({ cpu: 'snapdragon-8-gen-3', maxSeq: '512', kvDtype: 'f16' })).not.toThrow();
  });
});
