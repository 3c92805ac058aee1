// The same model in other shapes of checkpoint must verify against the same golden outputs:
// sharded, the other config.json form, plain multi-head attention (K/V heads replicated), F32/F16.

import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { f32ToF16Bits } from '../compiler/ir/half.js';
import { copyFixture, goldenDir, readRawTensors, runCli, writeRawTensors, type RawTensor } from './helpers.js';

async function expectVerifies(dir: string, golden: string, extra: string[] = []): Promise<void> {
  const r = await runCli('verify', dir, '--golden', goldenDir(golden), '--json', ...extra);
  expect(r.err).toBe('');
  const rep = JSON.parse(r.out);
  expect(rep.pass).toBe(true);
  expect(r.code).toBe(0);
}

function rewrite(dir: string, f: (ts: RawTensor[]) => RawTensor[]): void {
  const file = join(dir, 'model.safetensors');
  writeRawTensors(file, f(readRawTensors(file)));
}

function config(dir: string, f: (c: Record<string, unknown>) => void): void {
  const file = join(dir, 'config.json');
  const c = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  f(c);
  writeFileSync(file, JSON.stringify(c, null, 2));
}

describe('checkpoint forms', () => {
  it('sharded with model.safetensors.index.json', async () => {
    const d = copyFixture('llama32-tiny-untied');
    const ts = readRawTensors(join(d, 'model.safetensors'));
    rmSync(join(d, 'model.safetensors'));
    const shards = [ts.slice(0, 10), ts.slice(10, 25), ts.slice(25)];
    const weightMap: Record<string, string> = {};
    shards.forEach((s, i) => {
      const name = `model-0000${i + 1}-of-00003.safetensors`;
      writeRawTensors(join(d, name), s);
      for (const t of s) weightMap[t.name] = name;
    });
    writeFileSync(join(d, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    const r = await runCli('inspect', d);
    expect(r.out).toMatch(/files: 3 \(model-00001-of-00003\.safetensors/);
    await expectVerifies(d, 'llama32-tiny-untied');
  });

  it('classic config form converted to the transformers 5 form', async () => {
    const d = copyFixture('llama32-tiny');
    config(d, (c) => {
      c['rope_parameters'] = { ...(c['rope_scaling'] as object), rope_theta: c['rope_theta'] };
      delete c['rope_scaling'];
      delete c['rope_theta'];
      c['dtype'] = c['torch_dtype'];
      delete c['torch_dtype'];
    });
    await expectVerifies(d, 'llama32-tiny');
  });

  it('head_dim missing means hidden / heads', async () => {
    const d = copyFixture('llama32-tiny');
    config(d, (c) => {
      delete c['head_dim'];
    });
    await expectVerifies(d, 'llama32-tiny');
  });

  it('plain multi-head attention (each K/V head replicated to every query head)', async () => {
    const d = copyFixture('llama32-tiny'); // 4 heads, 1 kv head, head_dim 32
    const rep = 4;
    rewrite(d, (ts) =>
      ts.map((t) => {
        if (!/self_attn\.[kv]_proj\.weight$/.test(t.name)) return t;
        const bytes = new Uint8Array(t.bytes.length * rep);
        for (let i = 0; i < rep; i++) bytes.set(t.bytes, i * t.bytes.length);
        return { ...t, shape: [t.shape[0] * rep, t.shape[1]], bytes };
      }),
    );
    config(d, (c) => {
      c['num_key_value_heads'] = 4;
    });
    await expectVerifies(d, 'llama32-tiny');
  });

  it('F32 and F16 storage', async () => {
    const d32 = copyFixture('llama32-tiny');
    rewrite(d32, (ts) =>
      ts.map((t) => {
        const out = new Uint8Array(t.bytes.length * 2);
        for (let i = 0; i < t.bytes.length; i += 2) {
          out[2 * i + 2] = t.bytes[i];
          out[2 * i + 3] = t.bytes[i + 1];
        }
        return { ...t, dtype: 'F32', bytes: out };
      }),
    );
    await expectVerifies(d32, 'llama32-tiny');
    // F16 rounds bf16 values with more than 11 significant bits, so hold it to the f16 bounds.
    const d16 = copyFixture('llama32-tiny');
    rewrite(d16, (ts) =>
      readRawTensors(join(d32, 'model.safetensors')).map((t) => {
        const f = new Float32Array(t.bytes.slice().buffer);
        const out = new Uint8Array(f.length * 2);
        f.forEach((v, i) => {
          const h = f32ToF16Bits(v);
          out[2 * i] = h & 0xff;
          out[2 * i + 1] = h >> 8;
        });
        return { ...t, dtype: 'F16', bytes: out };
      }),
    );
    const r = await runCli('inspect', d16);
    expect(r.out).toMatch(/bytes: F16 /);
    const v = await runCli('verify', d16, '--golden', goldenDir('llama32-tiny'), '--json');
    const rep = JSON.parse(v.out);
    for (const c of Object.values(rep.cases) as Array<{ max_abs_err: number }>) expect(c.max_abs_err).toBeLessThan(1e-2);
  });
});
