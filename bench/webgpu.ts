// The WebGPU target's runtime against onnxruntime-node's WebGPU execution provider on the same
// adapter, side by side in one run: a 1B-shaped synthetic checkpoint (llamac synth), int4, prefill
// 128 tokens and decode tok/s. llamac: `compile --target webgpu` artifact through its own runtime
// module (generate(): one submission per token, GPU argmax). ORT: llamac's own ONNX export (ort
// op flavour, accuracy_level 0) with executionProviders ['webgpu'], KV caches fed back per step.
// Writes bench/results/webgpu.md (or --out) and prints a --json line.
// Run: npm run build && node dist/bench/webgpu.js [--layers N] [--prefill 128] [--decode 16] [--reps 3]
//      [--checkpoint DIR] [--no-ort] [--out FILE] [--json]

import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { openCheckpoint } from '../compiler/checkpoint/checkpoint.js';
import { importLlama } from '../compiler/frontend/llama.js';
import type { Graph } from '../compiler/ir/graph.js';
import { runPipeline } from '../compiler/pipeline.js';
import { makeQuantConfig } from '../compiler/passes/quant-config.js';
import { synthCheckpoint } from '../compiler/synth.js';
import { IO_NAMES, MODEL_FILE } from '../compiler/targets/onnx/emit.js';
import { onnxTarget } from '../compiler/targets/onnx/index.js';
import { emitWebGpu } from '../compiler/targets/webgpu/emit.js';
import { DEFAULT_LOWER } from '../compiler/targets/webgpu/lower.js';
import { loadArtifact } from '../compiler/targets/webgpu/runner.js';
import { LLAMAC_VERSION } from '../compiler/version.js';

interface Args {
  readonly layers: number | undefined;
  readonly checkpoint: string;
  readonly prefill: number;
  readonly decode: number;
  readonly reps: number;
  readonly ort: boolean;
  readonly out: string;
  readonly json: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const flag = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 && i + 1 < argv.length ? argv[i + 1] : undefined;
  };
  const layers = flag('--layers') ? Number(flag('--layers')) : undefined;
  return {
    layers,
    checkpoint: flag('--checkpoint') ?? join('bench', '.cache', layers ? `llama-3.2-1b-${layers}l` : 'llama-3.2-1b'),
    prefill: Number(flag('--prefill') ?? '128'),
    decode: Number(flag('--decode') ?? '16'),
    reps: Number(flag('--reps') ?? '3'),
    ort: !argv.includes('--no-ort'),
    out: flag('--out') ?? join('bench', 'results', 'webgpu.md'),
    json: argv.includes('--json'),
  };
}

const median = (xs: readonly number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const log = (m: string): void => console.error(m);

interface Side {
  readonly label: string;
  readonly loadS: number;
  readonly prefillMs: number[];
  readonly decodeMsPerToken: number[];
  round(prompt: number[], decode: number): Promise<void>;
  close(): Promise<void>;
}

async function llamacSide(dir: string): Promise<Side> {
  const t0 = performance.now();
  const { model, gpu } = await loadArtifact(dir);
  const loadS = (performance.now() - t0) / 1000;
  log(`llamac runtime on ${model.adapter.description} (kernels ${model.kernels().join(', ')})`);
  const prefillMs: number[] = [];
  const decodeMsPerToken: number[] = [];
  // warm-up: every pipeline runs once
  await model.generate([1, 2, 3, 4], { maxNewTokens: 2, stopTokens: [] });
  return {
    label: 'llamac webgpu runtime',
    loadS,
    prefillMs,
    decodeMsPerToken,
    round: async (prompt, decode) => {
      model.reset();
      let t = performance.now();
      await model.prefill(prompt, 0);
      await model.logits(); // waits for the GPU
      prefillMs.push(performance.now() - t);
      // generate() decodes from the prompt's last token: give it one token so it times decode only
      t = performance.now();
      await model.generate([prompt[prompt.length - 1]], { maxNewTokens: decode, stopTokens: [] });
      decodeMsPerToken.push((performance.now() - t) / decode);
    },
    close: async () => {
      model.dispose();
      gpu.destroy();
    },
  };
}

const i64 = (values: readonly number[]): ort.Tensor => new ort.Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), [1, values.length]);

async function ortSide(dir: string, graph: Graph): Promise<Side> {
  const { numLayers: L, numKvHeads, headDim } = graph.info;
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(join(dir, MODEL_FILE), { executionProviders: ['webgpu'], graphOptimizationLevel: 'all' });
  const loadS = (performance.now() - t0) / 1000;
  const empty = (): ort.Tensor[] => Array.from({ length: 2 * L }, () => new ort.Tensor('float32', new Float32Array(0), [1, numKvHeads, 0, headDim]));
  const step = async (ids: readonly number[], start: number, past: readonly ort.Tensor[]): Promise<ort.Tensor[]> => {
    const feeds: Record<string, ort.Tensor> = {
      [IO_NAMES.inputIds]: i64(ids),
      [IO_NAMES.attentionMask]: i64(new Array<number>(start + ids.length).fill(1)),
      [IO_NAMES.positionIds]: i64(ids.map((_, i) => start + i)),
    };
    for (let i = 0; i < L; i++) {
      feeds[IO_NAMES.pastKey(i)] = past[2 * i];
      feeds[IO_NAMES.pastValue(i)] = past[2 * i + 1];
    }
    const r = await session.run(feeds);
    const out: ort.Tensor[] = [];
    for (let i = 0; i < L; i++) out.push(r[IO_NAMES.presentKey(i)], r[IO_NAMES.presentValue(i)]);
    return out;
  };
  await step([1, 2, 3, 4], 0, empty());
  const prefillMs: number[] = [];
  const decodeMsPerToken: number[] = [];
  const V = graph.info.vocabSize;
  return {
    label: "onnxruntime-node WebGPU EP (llamac's ONNX export, ort ops)",
    loadS,
    prefillMs,
    decodeMsPerToken,
    round: async (prompt, decode) => {
      let t = performance.now();
      let past = await step(prompt, 0, empty());
      prefillMs.push(performance.now() - t);
      t = performance.now();
      let pos = prompt.length;
      for (let i = 0; i < decode; i++) past = await step([(pos * 31 + 7) % V], pos++, past);
      decodeMsPerToken.push((performance.now() - t) / decode);
    },
    close: async () => session.release(),
  };
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  if (!existsSync(a.checkpoint)) {
    log(`synthesizing llama-3.2-1b${a.layers ? ` (${a.layers} layers)` : ''} into ${a.checkpoint}`);
    synthCheckpoint('llama-3.2-1b', a.checkpoint, { layers: a.layers });
  }
  const ck = openCheckpoint(a.checkpoint);
  const quant = makeQuantConfig({ quant: 'int4', method: 'rtn', quantEmbeddings: 'int4' });
  let t = performance.now();
  const graph = await runPipeline(importLlama(ck), [...onnxTarget.pipeline, 'quantize'], { reader: ck, quant, log: () => {} });
  log(`pipeline + int4 quantization: ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const work = mkdtempSync(join(tmpdir(), 'llamac-bench-webgpu-'));
  const sides: Side[] = [];
  const loadBefore = loadavg()[0];
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  let weightMiB = 0;
  try {
    const wdir = join(work, 'webgpu');
    mkdirSync(wdir);
    const ctx = { reader: ck, checkpointDir: ck.dir, quant, options: {}, recordedOptions: { quant: 'int4' }, log };
    t = performance.now();
    const stats = emitWebGpu(graph, wdir, ctx, { lower: { ...DEFAULT_LOWER, maxTokens: Math.max(a.prefill, 1), contextLength: a.prefill + a.decode + 64 } });
    weightMiB = stats.weightBytes / 2 ** 20;
    log(`webgpu artifact: ${weightMiB.toFixed(1)} MiB in ${stats.shards} shards, ${stats.steps.decode} steps per token, emitted in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    sides.push(await llamacSide(wdir));
    if (a.ort) {
      const odir = join(work, 'onnx');
      mkdirSync(odir);
      await onnxTarget.emit(graph, odir, { ...ctx, options: { onnxOps: 'ort' } });
      try {
        sides.push(await ortSide(odir, graph));
      } catch (e) {
        log(`onnxruntime WebGPU EP unavailable: ${(e as Error).message}`);
      }
    }
    const V = graph.info.vocabSize;
    const prompt = Array.from({ length: a.prefill }, (_, i) => (i * 7919 + 13) % V);
    for (let rep = 0; rep < a.reps; rep++) {
      for (const s of sides) {
        await s.round(prompt, a.decode);
        log(`round ${rep + 1} ${s.label}: prefill ${s.prefillMs[rep].toFixed(0)} ms, decode ${s.decodeMsPerToken[rep].toFixed(1)} ms/token`);
      }
    }
  } finally {
    for (const s of sides) await s.close();
    rmSync(work, { recursive: true, force: true });
  }
  const cpu = process.cpuUsage(cpu0);
  const wallS = (performance.now() - wall0) / 1000;
  const rows = sides.map((s) => ({ label: s.label, loadS: s.loadS, prefillTps: a.prefill / (median(s.prefillMs) / 1000), decodeTps: 1000 / median(s.decodeMsPerToken) }));
  const ratio = rows.length === 2 ? rows[0].decodeTps / rows[1].decodeTps : null;
  const adapter = (await import('../kernels-wgsl/gpu.js')).openGpu;
  const g = await adapter();
  const adapterName = g?.adapterName ?? 'unknown';
  g?.destroy();
  const info = graph.info;
  const lines = [
    `# WebGPU target: llamac runtime vs onnxruntime WebGPU EP, 1B-shaped synthetic checkpoint, int4`,
    '',
    `llamac ${LLAMAC_VERSION}, onnxruntime-node ${ort.env.versions.common}, adapter: ${adapterName}; ${cpus().length} CPU threads (${cpus()[0]?.model ?? 'unknown CPU'}).`,
    `Model: llama-3.2-1b shapes (${info.numLayers} layers${a.layers ? ' (fewer than the real 16: --layers)' : ''}, hidden ${info.hiddenSize}, ${info.numHeads}/${info.numKvHeads} heads, vocab ${info.vocabSize}), random bf16 weights from \`llamac synth\`;`,
    `int4 g32 asymmetric RTN, every linear and the tied embedding/lm_head in int4 (${weightMiB.toFixed(0)} MiB of WebGPU weights).`,
    `Prefill ${a.prefill} tokens from an empty cache; decode ${a.decode} tokens after it; median of ${a.reps} rounds, the two taking turns.`,
    `1-minute load average ${loadBefore.toFixed(1)} before, ${loadavg()[0].toFixed(1)} after; this process: ${wallS.toFixed(0)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(0)} s CPU (user+sys; the adapter's threads count when it is a CPU adapter).`,
    '',
    '| runtime | prefill tok/s | decode tok/s | load s |',
    '|---|---:|---:|---:|',
    ...rows.map((r) => `| ${r.label} | ${r.prefillTps.toFixed(1)} | ${r.decodeTps.toFixed(2)} | ${r.loadS.toFixed(1)} |`),
    '',
    ratio !== null ? `Decode: llamac ${ratio.toFixed(2)}x onnxruntime's WebGPU EP (required >= 1.5x).` : 'onnxruntime WebGPU EP not measured.',
    '',
  ];
  mkdirSync(dirname(a.out), { recursive: true });
  writeFileSync(a.out, lines.join('\n'));
  log(lines.join('\n'));
  if (a.json) console.log(JSON.stringify({ adapter: adapterName, layers: info.numLayers, prefill: a.prefill, decode: a.decode, rows, decode_ratio: ratio }));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
