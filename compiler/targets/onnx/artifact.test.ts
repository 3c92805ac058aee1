// The artifact folder: byte-identical re-emission, manifest hashes, genai_config matching the
// model's I/O, dynamic batch, one initializer for a tied table, f16 storage.

import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import type { Graph, Value } from '../../ir/graph.js';
import { roundToF16 } from '../../ir/half.js';
import { materializeParam, type TensorReader } from '../../ir/materialize.js';
import { maxAbsError } from '../../verify/metrics.js';
import { referenceRunner, runCase } from '../runner.js';
import { MANIFEST_FILE, sha256File } from './artifact.js';
import { DATA_FILE, MODEL_FILE } from './emit.js';
import { onnxTarget } from './index.js';
import { DT, onnx } from './proto.js';
import { createSession } from './runner.js';
import { compileContext, openFixture, QUANT_REL_TOL, quantConfig, quantizeGraph, tempDir, testQuantConfig } from './onnx.test-helpers.js';

const dirs: string[] = [];
function scratch(tag: string): string {
  const d = tempDir(tag);
  dirs.push(d);
  return d;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function readModel(dir: string): ReturnType<typeof onnx.ModelProto.decode> {
  return onnx.ModelProto.decode(readFileSync(join(dir, MODEL_FILE)));
}

describe('onnx artifact', () => {
  it.each(['ort', 'standard'])('re-emitting gives byte-identical files (%s ops, int4)', async (ops) => {
    const { ck, graph } = openFixture('stories260K');
    const q = await quantizeGraph(graph, ck, 'int4');
    const ctx = compileContext(ck, { onnxOps: ops }, testQuantConfig('int4'));
    const [a, b] = [scratch('det-a'), scratch('det-b')];
    await onnxTarget.emit(q, a, ctx);
    await onnxTarget.emit(q, b, ctx);
    const files = readdirSync(a).sort();
    expect(readdirSync(b).sort()).toEqual(files);
    for (const f of files) expect(Buffer.compare(readFileSync(join(a, f)), readFileSync(join(b, f))), f).toBe(0);
  });

  it.each(['ort', 'standard'])('llama32-tiny f32 (%s ops): op counts and file hashes match the snapshot', async (ops) => {
    const { ck, graph } = openFixture('llama32-tiny');
    const dir = scratch(`snap-${ops}`);
    await onnxTarget.emit(graph, dir, compileContext(ck, { onnxOps: ops }));
    const counts: Record<string, number> = {};
    for (const n of readModel(dir).graph?.node ?? []) {
      const key = n.domain ? `${n.domain}.${n.opType}` : String(n.opType);
      counts[key] = (counts[key] ?? 0) + 1;
    }
    const sorted = Object.fromEntries(Object.entries(counts).sort(([x], [y]) => x.localeCompare(y)));
    // A change here means the emitted model changed: say so in the commit.
    expect({ ops: sorted, [MODEL_FILE]: sha256File(join(dir, MODEL_FILE)), [DATA_FILE]: sha256File(join(dir, DATA_FILE)) }).toMatchSnapshot();
  });

  it('manifest lists every file with its sha256, the version, options and source checkpoint', async () => {
    const { ck, graph } = openFixture('stories260K');
    const dir = scratch('manifest');
    await onnxTarget.emit(graph, dir, compileContext(ck, { onnxOps: 'standard' }));
    const m = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')) as {
      llamac_version: string;
      target_options: Record<string, string>;
      options: Record<string, unknown>;
      source_checkpoint: { name: string; files: { path: string; sha256: string }[] };
      files: { path: string; bytes: number; sha256: string }[];
    };
    expect(m.files.map((f) => f.path)).toEqual(readdirSync(dir).filter((f) => f !== MANIFEST_FILE).sort());
    for (const f of m.files) expect(f.sha256, f.path).toBe(sha256File(join(dir, f.path)));
    expect(m.files.map((f) => f.path)).toEqual(expect.arrayContaining([MODEL_FILE, DATA_FILE, 'genai_config.json', 'config.json', 'tok512.bin']));
    expect(m.llamac_version).toMatch(/^\d+\.\d+\.\d+/);
    expect(m.target_options.onnxOps).toBe('standard');
    expect(m.source_checkpoint.name).toBe('stories260K');
    const st = m.source_checkpoint.files.find((f) => f.path === 'model.safetensors');
    expect(st?.sha256).toBe(sha256File(join(ck.dir, 'model.safetensors')));
  });

  it.each(['ort', 'standard'])('genai_config names the model I/O; batch 2 runs and equals batch 1 (%s ops)', async (ops) => {
    const { ck, graph } = openFixture('llama32-tiny');
    const dir = scratch(`io-${ops}`);
    await onnxTarget.emit(graph, dir, compileContext(ck, { onnxOps: ops }));
    const cfg = JSON.parse(readFileSync(join(dir, 'genai_config.json'), 'utf8')) as {
      model: { decoder: { num_hidden_layers: number; inputs: Record<string, string>; outputs: Record<string, string> } };
    };
    const dec = cfg.model.decoder;
    const session = await createSession(dir, { accuracyLevel: 0 });
    const L = dec.num_hidden_layers;
    const pastNames = Array.from({ length: L }, (_, i) => [dec.inputs.past_key_names.replace('%d', String(i)), dec.inputs.past_value_names.replace('%d', String(i))]).flat();
    expect(session.inputNames).toEqual([dec.inputs.input_ids, dec.inputs.attention_mask, dec.inputs.position_ids, ...pastNames]);
    const presentNames = Array.from({ length: L }, (_, i) => [dec.outputs.present_key_names.replace('%d', String(i)), dec.outputs.present_value_names.replace('%d', String(i))]).flat();
    expect(session.outputNames).toEqual([dec.outputs.logits, ...presentNames]);

    // Dynamic batch: two rows of the same tokens give the batch-1 logits twice.
    const ids = [2046, 419, 975, 1991];
    const S = ids.length;
    const { numKvHeads: kvh, headDim: d, vocabSize: V } = graph.info;
    const feeds = (B: number): Record<string, ort.Tensor> => {
      const i64 = (vals: number[]) => new ort.Tensor('int64', BigInt64Array.from(vals, BigInt), [B, vals.length / B]);
      const f: Record<string, ort.Tensor> = {
        [dec.inputs.input_ids]: i64(Array.from({ length: B }, () => ids).flat()),
        [dec.inputs.attention_mask]: i64(new Array<number>(B * S).fill(1)),
        [dec.inputs.position_ids]: i64(Array.from({ length: B }, () => ids.map((_, i) => i)).flat()),
      };
      for (const n of pastNames) f[n] = new ort.Tensor('float32', new Float32Array(0), [B, kvh, 0, d]);
      return f;
    };
    const one = (await session.run(feeds(1)))[dec.outputs.logits];
    const two = (await session.run(feeds(2)))[dec.outputs.logits];
    expect(two.dims).toEqual([2, S, V]);
    const a = one.data as Float32Array;
    const b = two.data as Float32Array;
    expect(maxAbsError(a, b.subarray(0, S * V))).toBeLessThan(1e-5);
    expect(maxAbsError(a, b.subarray(S * V))).toBeLessThan(1e-5);
    await session.release();
  });

  it('a tied embedding is one initializer, f32 and int4 (ort ops)', async () => {
    const { ck, graph } = openFixture('llama32-tiny');
    const embedNames = (dir: string) => readModel(dir).graph?.initializer?.map((t) => String(t.name)).filter((n) => n.startsWith('model.embed_tokens.weight')) ?? [];
    const f32 = scratch('tied-f32');
    await onnxTarget.emit(graph, f32, compileContext(ck, { onnxOps: 'ort' }));
    expect(embedNames(f32)).toEqual(['model.embed_tokens.weight']);
    const q4 = scratch('tied-q4');
    await onnxTarget.emit(await quantizeGraph(graph, ck, 'int4'), q4, compileContext(ck, { onnxOps: 'ort' }, testQuantConfig('int4')));
    expect(embedNames(q4).sort()).toEqual(['model.embed_tokens.weight_q4', 'model.embed_tokens.weight_q4_scales', 'model.embed_tokens.weight_q4_zp']);
  });

  it.each(['ort', 'standard'])('f16 stores matrices as float16 and matches the interpreter on f16-rounded weights (%s ops)', async (ops) => {
    const { ck, graph } = openFixture('llama32-tiny-untied');
    const dir = scratch(`f16-${ops}`);
    await onnxTarget.emit(graph, dir, compileContext(ck, { onnxOps: ops }, quantConfig('f16')));
    const inits = readModel(dir).graph?.initializer ?? [];
    const dtypeOf = (name: string) => inits.find((t) => t.name === name)?.dataType;
    expect(dtypeOf('model.embed_tokens.weight')).toBe(DT.float16);
    expect(dtypeOf('lm_head.weight')).toBe(DT.float16);
    expect(dtypeOf('model.layers.0.self_attn.q_proj.weight')).toBe(DT.float16);
    expect(dtypeOf('model.norm.weight')).toBe(DT.float);
    const runner = await onnxTarget.load(dir, graph, compileContext(ck, { onnxOps: ops }));
    const ids = [1, 419, 975, 991, 122, 392, 767];
    const got = await runCase(runner, ids);
    await runner.dispose();
    const ref = await runCase(referenceRunner(roundMatricesToF16(graph, ck), ck), ids);
    const scale = ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(maxAbsError(ref, got) / scale).toBeLessThanOrEqual(QUANT_REL_TOL);
  });
});

/** The graph with every 2-D weight rounded to f16: what an f16 artifact computes with. */
function roundMatricesToF16(graph: Graph, reader: TensorReader): Graph {
  const repl = new Map<number, Value>();
  for (const p of graph.params) {
    if (p.type.shape.length !== 2) continue;
    const data = materializeParam(p, reader).map(roundToF16);
    repl.set(p.id, { ...p, param: { kind: 'constant', data } });
  }
  const swap = (v: Value): Value => repl.get(v.id) ?? v;
  return { ...graph, nodes: graph.nodes.map((n) => ({ ...n, inputs: n.inputs.map(swap) }) as Graph['nodes'][number]), params: graph.params.map(swap) };
}
