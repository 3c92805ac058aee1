// Every bad-input case: a one-line error naming the file/tensor/problem, exit 1, nothing written.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { goldenDir, copyFixture, listDir, readRawTensors, runCli, tempDir, writeRawSafetensors, writeRawTensors, type RawTensor } from './helpers.js';

const ST = 'model.safetensors';
const GOLDEN_TINY = goldenDir('llama32-tiny');

/** Run `compile --target reference` into a fresh folder and check the failure contract. */
async function expectCompileError(model: string, message: RegExp): Promise<void> {
  const outParent = tempDir();
  const out = join(outParent, 'artifact');
  const r = await runCli('compile', model, '--target', 'reference', '--out', out);
  expect(r.code).toBe(1);
  expect(r.out).toBe('');
  expect(r.err.split('\n')).toHaveLength(1);
  expect(r.err).toMatch(/^llamac: error: /);
  expect(r.err).toMatch(message);
  expect(r.err).not.toMatch(/\n\s+at /);
  expect(existsSync(out)).toBe(false);
  expect(listDir(outParent)).toEqual([]);
}

function mutateTensors(dir: string, f: (ts: RawTensor[]) => RawTensor[]): void {
  const file = join(dir, ST);
  writeRawTensors(file, f(readRawTensors(file)));
}

function mutateConfig(dir: string, f: (c: Record<string, unknown>) => void): void {
  const file = join(dir, 'config.json');
  const c = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  f(c);
  writeFileSync(file, JSON.stringify(c));
}

const bf16Nan = new Uint8Array([0xc0, 0x7f]);
const bf16Inf = new Uint8Array([0x80, 0x7f]);

describe('bad checkpoints', () => {
  it('truncated file', async () => {
    const d = copyFixture('llama32-tiny');
    writeFileSync(join(d, ST), new Uint8Array([1, 2, 3]));
    await expectCompileError(d, /model\.safetensors: truncated file \(3 bytes\)/);
  });

  it('header length past the end of the file', async () => {
    const d = copyFixture('llama32-tiny');
    writeRawSafetensors(join(d, ST), '{}', new Uint8Array(0), 1 << 20);
    await expectCompileError(d, /model\.safetensors: header length 1048576 runs past the end of the file/);
  });

  it('bad JSON header', async () => {
    const d = copyFixture('llama32-tiny');
    writeRawSafetensors(join(d, ST), '{"model.norm.weight": {', new Uint8Array(0));
    await expectCompileError(d, /model\.safetensors: bad JSON header/);
  });

  it('offsets out of range', async () => {
    const d = copyFixture('llama32-tiny');
    writeRawSafetensors(join(d, ST), JSON.stringify({ 'model.norm.weight': { dtype: 'BF16', shape: [128], data_offsets: [0, 256] } }), new Uint8Array(100));
    await expectCompileError(d, /tensor 'model\.norm\.weight': data_offsets \[0, 256\] out of range \(data section is 100 bytes\)/);
  });

  it('overlapping tensors', async () => {
    const d = copyFixture('llama32-tiny');
    const header = { a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] }, b: { dtype: 'F32', shape: [4], data_offsets: [8, 24] } };
    writeRawSafetensors(join(d, ST), JSON.stringify(header), new Uint8Array(24));
    await expectCompileError(d, /tensor 'b' overlaps tensor 'a'/);
  });

  it('byte length that does not match dtype x shape', async () => {
    const d = copyFixture('llama32-tiny');
    writeRawSafetensors(join(d, ST), JSON.stringify({ 'model.norm.weight': { dtype: 'BF16', shape: [128], data_offsets: [0, 128] } }), new Uint8Array(128));
    await expectCompileError(d, /tensor 'model\.norm\.weight': byte length 128 does not match BF16 x \[128\] = 256 bytes/);
  });

  it('unknown dtype', async () => {
    const d = copyFixture('llama32-tiny');
    writeRawSafetensors(join(d, ST), JSON.stringify({ 'model.norm.weight': { dtype: 'I4', shape: [128], data_offsets: [0, 64] } }), new Uint8Array(64));
    await expectCompileError(d, /tensor 'model\.norm\.weight': unknown dtype 'I4'/);
  });

  it('missing tensor', async () => {
    const d = copyFixture('llama32-tiny');
    mutateTensors(d, (ts) => ts.filter((t) => t.name !== 'model.layers.1.mlp.up_proj.weight'));
    await expectCompileError(d, /tensor 'model\.layers\.1\.mlp\.up_proj\.weight' is missing/);
  });

  it('shape that contradicts config.json', async () => {
    const d = copyFixture('llama32-tiny');
    mutateConfig(d, (c) => {
      c['intermediate_size'] = 256;
    });
    await expectCompileError(d, /tensor 'model\.layers\.0\.mlp\.gate_proj\.weight' has shape \[512, 128\], config\.json implies \[256, 128\]/);
  });

  it('unexpected (unclaimed) tensor', async () => {
    const d = copyFixture('llama32-tiny');
    mutateTensors(d, (ts) => [...ts, { name: 'model.layers.0.self_attn.q_proj.bias', dtype: 'BF16', shape: [128], bytes: new Uint8Array(256) }]);
    await expectCompileError(d, /unexpected tensor 'model\.layers\.0\.self_attn\.q_proj\.bias'/);
  });

  it('shard name in the index pointing outside the folder', async () => {
    const d = copyFixture('llama32-tiny');
    writeFileSync(join(d, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { 'model.norm.weight': '../../etc/passwd' } }));
    await expectCompileError(d, /model\.safetensors\.index\.json: shard '\.\.\/\.\.\/etc\/passwd' \(for tensor 'model\.norm\.weight'\) points outside the checkpoint folder/);
  });

  it('unsupported model_type', async () => {
    const d = copyFixture('llama32-tiny');
    mutateConfig(d, (c) => {
      c['model_type'] = 'mistral';
    });
    await expectCompileError(d, /config\.json: model_type: unsupported model_type "mistral"/);
  });

  it('unsupported architecture', async () => {
    const d = copyFixture('llama32-tiny');
    mutateConfig(d, (c) => {
      c['architectures'] = ['LlamaForSequenceClassification'];
    });
    await expectCompileError(d, /config\.json: architectures: unsupported architecture/);
  });

  it('unsupported RoPE type', async () => {
    const d = copyFixture('llama32-tiny-untied');
    mutateConfig(d, (c) => {
      (c['rope_parameters'] as Record<string, unknown>)['rope_type'] = 'yarn';
    });
    await expectCompileError(d, /config\.json: rope_parameters\.rope_type: unsupported RoPE type "yarn"/);
  });

  it.each([
    ['NaN', bf16Nan],
    ['Inf', bf16Inf],
  ])('%s in weights (checked when read)', async (what, bits) => {
    const d = copyFixture('llama32-tiny');
    mutateTensors(d, (ts) =>
      ts.map((t) => {
        if (t.name !== 'model.layers.1.self_attn.o_proj.weight') return t;
        const bytes = new Uint8Array(t.bytes);
        bytes.set(bits, 2 * 77);
        return { ...t, bytes };
      }),
    );
    // Opening reads no weights; the value is found when something reads the tensor (here verify).
    expect((await runCli('inspect', d)).code).toBe(0);
    const real = await runCli('verify', d, '--golden', GOLDEN_TINY);
    expect(real.code).toBe(1);
    expect(real.out).toBe('');
    expect(real.err).toBe(`llamac: error: ${join(d, ST)}: tensor 'model.layers.1.self_attn.o_proj.weight' contains ${what} at element 77`);
  });

  it('not a checkpoint folder', async () => {
    await expectCompileError(join(tempDir(), 'nope'), /nope: not a checkpoint folder/);
  });
});

describe('bad options', () => {
  it('unknown quantization', async () => {
    const r = await runCli('verify', copyFixture('stories260K'), '--golden', tempDir(), '--quant', 'int3');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/no golden\.json|--quant: unknown 'int3'/);
  });

  it('unknown target', async () => {
    const out = join(tempDir(), 'o');
    const r = await runCli('compile', copyFixture('stories260K'), '--target', 'cuda', '--out', out);
    expect(r.code).toBe(1);
    expect(r.err).toBe("llamac: error: --target: unknown target 'cuda' (known: " + r.err.split('(known: ')[1]);
    expect(existsSync(out)).toBe(false);
  });

  it('bad group size', async () => {
    const r = await runCli('eval', copyFixture('stories260K'), '--ids', 'x.json', '--quant', 'int4', '--group-size', '48');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/--group-size: 48 is not one of 32, 64, 128|x\.json/);
  });

  it('--out that is a non-empty folder is refused and left alone', async () => {
    const out = tempDir();
    writeFileSync(join(out, 'keep.txt'), 'mine');
    const r = await runCli('compile', copyFixture('stories260K'), '--target', 'reference', '--out', out);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/--out: .* already exists and is not an empty folder/);
    expect(listDir(out)).toEqual(['keep.txt']);
  });

  it('--debug adds the stack trace', async () => {
    const r = await runCli('--debug', 'inspect', join(tempDir(), 'missing'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/\n\s+at /);
  });
});
