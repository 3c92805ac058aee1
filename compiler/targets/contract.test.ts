// The seam every target plugs into, checked for every registered target: a lowering or rejection
// per op (by the type checker and at run time), declared options the CLI exposes and checks,
// bounds for every quantization, and a rejected op reported before anything is written.

import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/helpers.js';
import { buildForTarget, emitArtifact, loadModel, runnerFor, type Built } from '../compile.js';
import { INTERPRETER_OPS, type InterpreterFns } from '../interpreter/interpreter.js';
import { OPS, type OpKind } from '../ir/ops.js';
import { NO_QUANT, type QuantName } from '../passes/quant-config.js';
import { allTargetOptions, TARGETS } from './index.js';
import { isRejection, reject, type LoweringTable } from './lowering.js';
import { optionKey } from './options.js';
import { referenceTarget } from './reference.js';
import { defineTarget } from './target.js';

const REPO = new URL('../../', import.meta.url).pathname;
const OP_KINDS = Object.keys(OPS) as OpKind[];
const QUANTS: QuantName[] = ['f32', 'f16', 'int8', 'int4', 'q4_0'];

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

// @ts-expect-error a table that leaves out an op (here every op but embedding) does not type-check
const _missing: LoweringTable<InterpreterFns> = { embedding: INTERPRETER_OPS.embedding };
void _missing;

/** The reference target with one op rejected: what a target without a fused swiglu kernel declares. */
const noSwiglu = defineTarget({
  name: 'no-swiglu',
  description: 'test: the interpreter minus swiglu',
  options: {},
  pipeline: referenceTarget.pipeline,
  lowering: (): LoweringTable<InterpreterFns> => ({ ...INTERPRETER_OPS, swiglu: reject('no fused SwiGLU kernel; run with --no-fuse') }),
  bounds: referenceTarget.bounds,
  referenceMode: () => ({ actQuant: 'none' }),
  emit: (graph, outDir, ctx) => referenceTarget.emit(graph, outDir, ctx),
  load: (dir, graph, ctx) => referenceTarget.load(dir, graph, ctx),
});

async function builtFor(fixture: string, fuse: boolean): Promise<Built> {
  const model = await loadModel(join(REPO, 'fixtures', fixture));
  const b = await buildForTarget(model, { target: 'reference', quant: NO_QUANT, fuse, targetOptions: {}, recordedOptions: {} });
  return { ...b, target: noSwiglu };
}

describe.each(TARGETS.map((t) => [t.name, t] as const))('target %s', (_name, target) => {
  it('names every op kind in its lowering table (a lowering or a rejection with a reason), for every option value', () => {
    const variants: Record<string, string>[] = [{}];
    for (const s of Object.values(target.options)) {
      const key = optionKey(s);
      const values = s.kind === 'enum' ? s.values : [String(s.min), String(s.max)];
      for (const v of values) variants.push({ [key]: String(v) });
    }
    for (const given of variants) {
      const table = target.lowering(given);
      expect(Object.keys(table).sort()).toEqual([...OP_KINDS].sort());
      for (const op of OP_KINDS) {
        const entry = table[op];
        if (isRejection(entry)) expect(entry.rejected.length, `${target.name} ${op}`).toBeGreaterThan(0);
        else expect(typeof entry, `${target.name} ${op}`).toBe('function');
      }
    }
  });

  it('declares bounds for every quantization, each enforcing something', () => {
    for (const q of QUANTS) {
      const b = target.bounds[q];
      expect(b.golden !== null || b.vsReference !== null, `${target.name} ${q}`).toBe(true);
      for (const t of [b.golden, b.vsReference]) {
        if (t) expect(t.maxAbs !== null || t.maxKl !== null || t.minTop1 !== null, `${target.name} ${q} ${t.label}`).toBe(true);
      }
    }
  });

  it('declares options whose defaults parse, and the CLI lists exactly them under --help --target', async () => {
    const specs = Object.values(target.options);
    for (const s of specs) expect(s.kind === 'enum' ? s.values.includes(s.default) : s.default >= s.min && s.default <= s.max).toBe(true);
    const help = await runCli('compile', '--help', '--target', target.name);
    expect(help.code).toBe(0);
    for (const s of specs) expect(help.out).toContain(`--${s.flag} <value>`);
    for (const o of allTargetOptions()) if (o.target !== target) expect(help.out).not.toContain(`--${o.spec.flag} `);
  });
});

describe('the lowering tables', () => {
  it('the interpreter (the reference target) implements every op', () => {
    for (const op of OP_KINDS) expect(typeof INTERPRETER_OPS[op], op).toBe('function');
  });

  it('a rejection is a value with its reason', () => {
    expect(isRejection(reject('why'))).toBe(true);
    expect(isRejection(INTERPRETER_OPS.linear)).toBe(false);
  });
});

describe('a rejected op', () => {
  it('stops compile with one error naming target and op, before anything is written', async () => {
    const built = await builtFor('stories260K', true);
    const parent = mkdtempSync(join(tmpdir(), 'llamac-reject-'));
    dirs.push(parent);
    const out = join(parent, 'artifact');
    await expect(emitArtifact(built, out)).rejects.toThrow('target no-swiglu does not support op swiglu (no fused SwiGLU kernel; run with --no-fuse)');
    expect(readdirSync(parent)).toEqual([]);
    await expect(runnerFor(built)).rejects.toThrow('target no-swiglu does not support op swiglu');
  });

  it('is no obstacle when the graph does not contain it', async () => {
    const built = await builtFor('stories260K', false);
    const parent = mkdtempSync(join(tmpdir(), 'llamac-reject-'));
    dirs.push(parent);
    await emitArtifact(built, join(parent, 'artifact'));
    expect(existsSync(join(parent, 'artifact', 'model.ir'))).toBe(true);
  });
});

describe('target options on the command line', () => {
  const missing = join(tmpdir(), 'llamac-no-such-model');

  it.each([
    [['--onnx-ops', 'fast'], "llamac: error: --onnx-ops: expected ort | standard, got 'fast'"],
    [['--onnx-accuracy-level', '5'], "llamac: error: --onnx-accuracy-level: expected an integer 0..4, got '5'"],
    [['--onnx-accuracy-level', '1.5'], "llamac: error: --onnx-accuracy-level: expected an integer 0..4, got '1.5'"],
    [['--act-quant', 'int8'], 'llamac: error: --act-quant: an option of --target reference, not of --target onnx'],
    [['--onnx-flavour', 'ort'], "llamac: error: unknown option '--onnx-flavour'"],
  ])('%j: one error line naming the option, checked before the model is read', async (args, message) => {
    const r = await runCli('compile', missing, '--target', 'onnx', ...args, '--out', join(tmpdir(), 'llamac-never-written'));
    expect(r.code).toBe(1);
    expect(r.err).toBe(message);
    expect(existsSync(join(tmpdir(), 'llamac-never-written'))).toBe(false);
  });
});
