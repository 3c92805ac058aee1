// Every bad-input case: a one-line error naming the file/tensor/problem, exit 1, nothing written.

import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EVAL_IDS, goldenDir, copyFixture, fixture, listDir, readRawTensors, runCli, tempDir, writeRawSafetensors, writeRawTensors, type RawTensor } from './helpers.js';

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

/** A config.json edit: a key path ('a.b') set to a value, or deleted with undefined. */
function setConfig(dir: string, path: string, value: unknown): void {
  mutateConfig(dir, (c) => {
    const keys = path.split('.');
    let o = c;
    for (const k of keys.slice(0, -1)) o = o[k] as Record<string, unknown>;
    if (value === undefined) delete o[keys[keys.length - 1]];
    else o[keys[keys.length - 1]] = value;
  });
}

describe('config values that do not make a Llama (refused, naming config.json and the field)', () => {
  // stories260K: classic rope_theta, no scaling; llama32-tiny: rope_theta + rope_scaling (llama3);
  // llama32-tiny-untied: transformers 5 rope_parameters.
  it.each([
    ['stories260K', 'rope_theta', 0, /config\.json: rope_theta: expected a positive number, got 0$/],
    ['stories260K', 'rope_theta', -1, /config\.json: rope_theta: expected a positive number, got -1$/],
    ['stories260K', 'rope_theta', null, /config\.json: rope_theta: expected a positive number, got null$/],
    ['stories260K', 'rms_norm_eps', 0, /config\.json: rms_norm_eps: expected a positive number, got 0$/],
    ['stories260K', 'rms_norm_eps', -1, /rms_norm_eps: expected a positive number, got -1$/],
    ['stories260K', 'rms_norm_eps', null, /rms_norm_eps: expected a positive number, got null$/],
    ['stories260K', 'rms_norm_eps', 1e-50, /rms_norm_eps: 1e-50 rounds to 0 in float32$/],
    ['stories260K', 'rms_norm_eps', 1e300, /rms_norm_eps: 1e\+300 does not fit in float32$/],
    // Found by the fuzz test: in range, but NaN once computed in float32.
    ['llama32-tiny', 'rope_theta', 1e-50, /config\.json: rope_theta 1e-50 with llama3 scaling \(factor 32, low_freq_factor 1, high_freq_factor 4\) gives RoPE inverse frequency Infinity at index \d+ in float32/],
    ['stories260K', 'rope_theta', 1e300, /config\.json: rope_theta 1e\+300 gives RoPE inverse frequency 0 at index 1 in float32/],
    ['llama32-tiny', 'rope_scaling.factor', 1e-50, /rope_theta 500000 with llama3 scaling \(factor 1e-50, .*\) gives RoPE inverse frequency (Infinity|NaN)/],
    ['llama32-tiny', 'rope_scaling.factor', 0, /config\.json: rope_scaling\.factor: expected a positive number, got 0$/],
    ['llama32-tiny', 'rope_scaling.factor', -1, /rope_scaling\.factor: expected a positive number, got -1$/],
    ['llama32-tiny', 'rope_scaling.low_freq_factor', 4, /rope_scaling\.high_freq_factor: 4 must be greater than low_freq_factor 4$/],
    ['llama32-tiny', 'rope_scaling.original_max_position_embeddings', 0, /rope_scaling\.original_max_position_embeddings: expected a positive integer, got 0$/],
    ['llama32-tiny', 'rope_scaling.rope_type', null, /rope_scaling\.rope_type: expected a RoPE type name, got null$/],
    ['llama32-tiny', 'rope_scaling', {}, /config\.json: rope_scaling: has no rope_type \(use null for no scaling\)$/],
    ['llama32-tiny', 'rope_scaling', 'llama3', /rope_scaling: expected an object or null, got "llama3"$/],
    ['llama32-tiny-untied', 'rope_parameters.rope_theta', null, /config\.json: rope_parameters\.rope_theta: expected a positive number, got null$/],
    ['llama32-tiny-untied', 'rope_parameters.factor', undefined, /rope_parameters\.factor: missing$/],
    ['stories260K', 'hidden_act', null, /hidden_act: unsupported activation null \(expected silu\)$/],
    ['stories260K', 'partial_rotary_factor', 0.5, /partial_rotary_factor: only 1 .* got 0\.5$/],
    ['stories260K', 'num_attention_heads', 1.5, /num_attention_heads: expected a positive integer, got 1\.5$/],
    ['stories260K', 'vocab_size', 2 ** 40, /vocab_size: 1099511627776 is larger than 2147483647$/],
    ['stories260K', 'eos_token_id', 512, /eos_token_id: token id 512 is outside the vocabulary \(vocab_size 512\)$/],
    ['stories260K', 'tie_word_embeddings', 'yes', /tie_word_embeddings: expected true or false, got "yes"$/],
  ])('%s: %s = %j', async (fx, path, value, message) => {
    const d = copyFixture(fx);
    setConfig(d, path, value);
    await expectCompileError(d, message);
  });

  it('a huge num_hidden_layers is refused at once (size limit, then the layers present), not looped over', async () => {
    const d = copyFixture('stories260K');
    const t0 = Date.now();
    setConfig(d, 'num_hidden_layers', 1e12);
    await expectCompileError(d, /config\.json: num_hidden_layers: 1000000000000 is larger than 2147483647$/);
    setConfig(d, 'num_hidden_layers', 2e9);
    await expectCompileError(d, /config\.json: num_hidden_layers: 2000000000, but the checkpoint has tensors for 5 layers \(model\.layers\.0 to model\.layers\.4\)$/);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('integers past 2^53 are not printed as the nearest double', async () => {
    const d = copyFixture('stories260K');
    const file = join(d, 'config.json');
    writeFileSync(file, readFileSync(file, 'utf8').replace('"num_hidden_layers": 5', '"num_hidden_layers": 18446744073709551615'));
    await expectCompileError(d, /num_hidden_layers: a number beyond 2\^53 \(about 1\.845e\+19\) is larger than 2147483647$/);
  });

  it("missing keys take transformers' defaults (and the shape check names them); null does not", async () => {
    const d = copyFixture('stories260K');
    setConfig(d, 'rope_theta', undefined);
    setConfig(d, 'rms_norm_eps', undefined);
    setConfig(d, 'num_key_value_heads', null);
    const r = await runCli('inspect', d);
    // num_key_value_heads: null means one KV head per query head (8): the k_proj shape disagrees.
    expect(r.err).toMatch(/tensor 'model\.layers\.0\.self_attn\.k_proj\.weight' has shape \[32, 64\], config\.json implies \[64, 64\]$/);
    setConfig(d, 'num_key_value_heads', 4);
    const ok = await runCli('inspect', d);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/rope: theta 10000, no scaling/);
    expect(ok.out).toMatch(/rms_norm_eps 0\.000001/);
    setConfig(d, 'hidden_size', undefined);
    await expectCompileError(d, /config\.json implies \[512, 4096\] \(config\.json leaves out hidden_size, transformers' default 4096\)$/);
  });
});

describe('hostile safetensors headers', () => {
  it('a header length of 2^64-1 is printed exactly', async () => {
    const d = copyFixture('llama32-tiny');
    const file = join(d, ST);
    const bytes = readFileSync(file);
    bytes.writeBigUInt64LE(2n ** 64n - 1n, 0);
    writeFileSync(file, bytes);
    await expectCompileError(d, /header length 18446744073709551615 runs past the end of the file/);
  });

  it('data_offsets past 2^53 are refused without printing a rounded value', async () => {
    const d = copyFixture('llama32-tiny');
    writeRawSafetensors(join(d, ST), '{"model.norm.weight": {"dtype": "BF16", "shape": [128], "data_offsets": [0, 18446744073709551615]}}', new Uint8Array(256));
    await expectCompileError(d, /tensor 'model\.norm\.weight': bad data_offsets \[0,"<a number beyond 2\^53 \(about 1\.845e\+19\)>"\]$/);
  });

  it('control characters from the header are escaped in messages (and in inspect)', async () => {
    const d = copyFixture('llama32-tiny');
    mutateTensors(d, (ts) => [...ts, { name: 'evil\u001b[2J\u0007name', dtype: 'BF16', shape: [1], bytes: new Uint8Array(2) }]);
    await expectCompileError(d, /unexpected tensor 'evil\\x1b\[2J\\x07name'/);
    const raw = copyFixture('llama32-tiny');
    writeRawSafetensors(join(raw, ST), '{"a\u0001": 5', new Uint8Array(0));
    const r = await runCli('inspect', raw);
    expect(r.err).toMatch(/^llamac: error: .*bad JSON header/);
    expect(r.err).not.toMatch(/[\u0000-\u001f]/);
  });
});

describe('options are checked before any weight is read', () => {
  /** A checkpoint whose weights fail when read: an error about an option proves it came first. */
  function poisoned(): string {
    const d = copyFixture('stories260K');
    mutateTensors(d, (ts) => ts.map((t) => (t.name === 'model.embed_tokens.weight' ? { ...t, bytes: new Uint8Array(t.bytes.length).fill(0xff) } : t)));
    return d;
  }

  it.each([
    [['--onnx-accuracy-level', '7'], /^llamac: error: --onnx-accuracy-level: expected an integer 0\.\.4, got '7'$/],
    [['--onnx-ops', 'cuda'], /^llamac: error: --onnx-ops: expected ort \| standard, got 'cuda'$/],
    [['--quant', 'int4', '--group-size', '48'], /^llamac: error: --group-size: 48 is not one of 32, 64, 128$/],
    [['--group-size', 'abc'], /^llamac: error: option '--group-size <n>' argument 'abc' is invalid\. --group-size: expected a positive integer, got 'abc'$/],
    [['--frobnicate'], /^llamac: error: unknown option '--frobnicate'$/],
    [['--outt', 'x'], /^llamac: error: unknown option '--outt' \(Did you mean --out\?\)$/],
  ])('compile %j', async (args, message) => {
    const parent = tempDir();
    const r = await runCli('compile', poisoned(), '--out', join(parent, 'o'), ...args);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(message);
    expect(listDir(parent)).toEqual([]);
  });

  it('commander errors are one llamac: error line too', async () => {
    for (const args of [['compil', 'x'], ['compile'], ['verify', 'x']]) {
      const r = await runCli(...args);
      expect(r.code).toBe(1);
      expect(r.err.split('\n')).toHaveLength(1);
      expect(r.err).toMatch(/^llamac: error: (unknown command 'compil' \(Did you mean compile\?\)|missing required argument 'model'|required option '--golden <dir>' not specified)$/);
    }
  });

  it('--out: an existing non-empty folder, a path below a file, a folder that cannot be made', async () => {
    const model = poisoned();
    const full = tempDir();
    writeFileSync(join(full, 'keep.txt'), 'mine');
    const file = join(tempDir(), 'a-file');
    writeFileSync(file, '');
    for (const [out, message] of [
      [full, /^llamac: error: --out: .* already exists and is not an empty folder$/],
      [file, /^llamac: error: --out: .*a-file already exists and is not a folder$/],
      [join(file, 'sub', 'o'), /^llamac: error: --out: .*a-file\/sub\/o is below .*a-file, which is a file$/],
      ['/proc/llamac-no/o', /^llamac: error: --out: cannot create \/proc\/llamac-no: E[A-Z]+$/],
      ['/proc/llamac-no', /^llamac: error: --out: cannot write in \/proc: E[A-Z]+$/],
    ] as const) {
      const r = await runCli('compile', model, '--target', 'reference', '--out', out);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(message);
    }
    expect(listDir(full)).toEqual(['keep.txt']);
  });

  it('calibration ids outside the vocabulary name the file and position, before quantizing', async () => {
    const ids = join(tempDir(), 'calib.json');
    writeFileSync(ids, JSON.stringify({ stories: [[1, 2, 3], [4, 99999]] }));
    const r = await runCli('compile', poisoned(), '--target', 'reference', '--quant', 'int4', '--calibration', ids, '--out', join(tempDir(), 'o'));
    expect(r.code).toBe(1);
    expect(r.err).toBe(`llamac: error: --calibration: ${ids}: stories[1][1]: token id 99999 is outside the vocabulary (vocab_size 512)`);
  });

  it('eval --ids outside the vocabulary name the file', async () => {
    const ids = join(tempDir(), 'ids.json');
    writeFileSync(ids, JSON.stringify({ stories: [[1, 600]] }));
    const r = await runCli('eval', poisoned(), '--ids', ids);
    expect(r.err).toBe(`llamac: error: --ids: ${ids}: stories[0][1]: token id 600 is outside the vocabulary (vocab_size 512)`);
    expect(existsSync(EVAL_IDS)).toBe(true);
  });
});

describe('the output folder', () => {
  it("a new --out follows the umask; an existing empty one keeps its mode", async () => {
    const umask = process.umask();
    const parent = tempDir();
    const fresh = join(parent, 'fresh');
    expect((await runCli('compile', fixture('stories260K'), '--target', 'reference', '--out', fresh)).code).toBe(0);
    expect(statSync(fresh).mode & 0o777).toBe(0o777 & ~umask);
    const existing = join(parent, 'existing');
    mkdirSync(existing);
    chmodSync(existing, 0o750);
    expect((await runCli('compile', fixture('stories260K'), '--target', 'reference', '--out', existing)).code).toBe(0);
    expect(statSync(existing).mode & 0o777).toBe(0o750);
    expect(listDir(existing)).toEqual(['model.ir']);
  });
});
