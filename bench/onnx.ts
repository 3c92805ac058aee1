// onnxruntime-node CPU speed of the ONNX target on the 1B-shaped synthetic checkpoint, int4:
// both op flavours side by side in one run (prefill tokens/s, decode tokens/s), file sizes and
// bits per weight. Writes bench/results/onnx.md.
// Run: npm run build && node dist/bench/onnx.js [checkpointDir] [--prefill 128] [--decode 32] [--out FILE]

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { openCheckpoint } from '../compiler/checkpoint/checkpoint.js';
import { importLlama } from '../compiler/frontend/llama.js';
import type { Graph } from '../compiler/ir/graph.js';
import { runPipeline } from '../compiler/pipeline.js';
import { makeQuantConfig } from '../compiler/passes/quant-config.js';
import { synthCheckpoint } from '../compiler/synth.js';
import { DATA_FILE, IO_NAMES, MODEL_FILE } from '../compiler/targets/onnx/emit.js';
import { onnxTarget } from '../compiler/targets/onnx/index.js';
import { createSession } from '../compiler/targets/onnx/runner.js';
import { LLAMAC_VERSION } from '../compiler/version.js';

interface Args {
  readonly checkpoint: string;
  readonly prefill: number;
  readonly decode: number;
  readonly out: string;
  readonly reps: number;
}

function parseArgs(argv: readonly string[]): Args {
  const flag = (name: string, fallback: string): string => {
    const i = argv.indexOf(name);
    return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback;
  };
  const positional = argv.find((a, i) => !a.startsWith('--') && (i === 0 || !argv[i - 1].startsWith('--')));
  return {
    checkpoint: positional ?? join('bench', '.cache', 'llama-3.2-1b'),
    prefill: Number(flag('--prefill', '128')),
    decode: Number(flag('--decode', '32')),
    out: flag('--out', join('bench', 'results', 'onnx.md')),
    reps: Number(flag('--reps', '3')),
  };
}

interface Variant {
  readonly label: string;
  readonly ops: 'ort' | 'standard';
  readonly accuracyLevel: number;
}

interface Measured {
  readonly variant: Variant;
  readonly loadS: number;
  readonly prefillTps: number;
  readonly decodeTps: number;
}

function i64(values: readonly number[]): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), [1, values.length]);
}

/** One forward on the session; returns the presents to feed back. */
async function step(session: ort.InferenceSession, graph: Graph, ids: readonly number[], start: number, past: readonly ort.Tensor[]): Promise<ort.Tensor[]> {
  const L = graph.info.numLayers;
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
}

function emptyPast(graph: Graph): ort.Tensor[] {
  const { numLayers, numKvHeads, headDim } = graph.info;
  return Array.from({ length: 2 * numLayers }, () => new ort.Tensor('float32', new Float32Array(0), [1, numKvHeads, 0, headDim]));
}

/** A loaded variant and its timings; variants take turns so machine load hits them alike. */
interface Running {
  readonly variant: Variant;
  readonly session: ort.InferenceSession;
  readonly loadS: number;
  readonly prefillMs: number[];
  readonly decodeMsPerToken: number[];
}

async function open(dir: string, graph: Graph, v: Variant): Promise<Running> {
  const t0 = performance.now();
  const session = await createSession(dir, { accuracyLevel: v.accuracyLevel });
  const loadS = (performance.now() - t0) / 1000;
  await step(session, graph, [1, 2, 3, 4, 5, 6, 7, 8], 0, emptyPast(graph)); // warm-up
  return { variant: v, session, loadS, prefillMs: [], decodeMsPerToken: [] };
}

/** One round: prefill `a.prefill` tokens, then decode `a.decode` tokens on that cache. */
async function round(r: Running, graph: Graph, a: Args): Promise<void> {
  const V = graph.info.vocabSize;
  const prompt = Array.from({ length: a.prefill }, (_, i) => (i * 7919 + 13) % V);
  let t = performance.now();
  let past = await step(r.session, graph, prompt, 0, emptyPast(graph));
  r.prefillMs.push(performance.now() - t);
  t = performance.now();
  let pos = a.prefill;
  for (let i = 0; i < a.decode; i++) past = await step(r.session, graph, [(pos * 31 + 7) % V], pos++, past);
  r.decodeMsPerToken.push((performance.now() - t) / a.decode);
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
}

function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(1);
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  if (!existsSync(a.checkpoint)) {
    console.error(`synthesizing llama-3.2-1b into ${a.checkpoint}`);
    synthCheckpoint('llama-3.2-1b', a.checkpoint);
  }
  const ck = openCheckpoint(a.checkpoint);
  const quant = makeQuantConfig({ quant: 'int4', method: 'rtn', quantEmbeddings: 'int4' });
  const log = (m: string) => console.error(m);
  let t = performance.now();
  const graph = await runPipeline(importLlama(ck), [...onnxTarget.pipeline, 'quantize'], { reader: ck, quant, log: () => {} });
  const quantS = (performance.now() - t) / 1000;
  log(`pipeline + int4 quantization: ${quantS.toFixed(1)} s`);
  const peak = () => (process.memoryUsage().rss / 2 ** 30).toFixed(2);

  const work = mkdtempSync(join(tmpdir(), 'llamac-bench-onnx-'));
  // The ort flavour bakes accuracy_level into MatMulNBits; the standard flavour's level is a session
  // option, so one standard artifact serves both levels.
  const artifacts: { ops: 'ort' | 'standard'; emitLevel: number; variants: Variant[] }[] = [
    { ops: 'ort', emitLevel: 0, variants: [{ label: 'ort, accuracy_level 0 (fp32 compute)', ops: 'ort', accuracyLevel: 0 }] },
    {
      ops: 'standard',
      emitLevel: 0,
      variants: [
        { label: 'standard, accuracy level 0 (fp32 compute)', ops: 'standard', accuracyLevel: 0 },
        { label: 'standard, accuracy level 4 (int8 activations)', ops: 'standard', accuracyLevel: 4 },
      ],
    },
    { ops: 'ort', emitLevel: 4, variants: [{ label: 'ort, accuracy_level 4 (int8 activations)', ops: 'ort', accuracyLevel: 4 }] },
  ];
  const sizes = new Map<string, { model: number; data: number; bitsPerParam: number; emitS: number }>();
  const running: Running[] = [];
  const loadBefore = loadavg()[0];
  try {
    for (const art of artifacts) {
      const dir = join(work, `${art.ops}-${art.emitLevel}`);
      mkdirSync(dir);
      t = performance.now();
      const ctx = { reader: ck, checkpointDir: ck.dir, quant, options: { onnxOps: art.ops, onnxAccuracyLevel: String(art.emitLevel) }, recordedOptions: { quant: 'int4' }, log };
      await onnxTarget.emit(graph, dir, ctx);
      const emitS = (performance.now() - t) / 1000;
      const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { weights: { bits_per_parameter: number } };
      const size = { model: statSync(join(dir, MODEL_FILE)).size, data: statSync(join(dir, DATA_FILE)).size, bitsPerParam: manifest.weights.bits_per_parameter, emitS };
      log(`emitted ${art.ops} (accuracy level ${art.emitLevel}) in ${emitS.toFixed(1)} s, rss ${peak()} GiB`);
      for (const v of art.variants) {
        sizes.set(v.label, size);
        running.push(await open(dir, graph, v));
      }
    }
    for (let rep = 0; rep < a.reps; rep++) {
      for (const r of running) {
        await round(r, graph, a);
        log(`round ${rep + 1} ${r.variant.label}: prefill ${r.prefillMs[rep].toFixed(0)} ms, decode ${r.decodeMsPerToken[rep].toFixed(0)} ms/token`);
      }
    }
  } finally {
    for (const r of running) await r.session.release();
    rmSync(work, { recursive: true, force: true });
  }
  const loadAfter = loadavg()[0];
  const results: Measured[] = running.map((r) => ({
    variant: r.variant,
    loadS: r.loadS,
    prefillTps: a.prefill / (median(r.prefillMs) / 1000),
    decodeTps: 1000 / median(r.decodeMsPerToken),
  }));
  results.sort((x, y) => x.variant.accuracyLevel - y.variant.accuracyLevel || x.variant.ops.localeCompare(y.variant.ops));

  const info = graph.info;
  const lines = [
    '# ONNX target: onnxruntime-node CPU, 1B-shaped synthetic checkpoint, int4',
    '',
    `llamac ${LLAMAC_VERSION}, onnxruntime-node ${ort.env.versions.common}, ${cpus().length} CPU threads (${cpus()[0]?.model ?? 'unknown CPU'}), batch 1.`,
    `Model: llama-3.2-1b shapes (${info.numLayers} layers, hidden ${info.hiddenSize}, ${info.numHeads}/${info.numKvHeads} heads, vocab ${info.vocabSize}), random bf16 weights from \`llamac synth\`.`,
    'Quantization: int4 g32 asymmetric, f16-rounded scales stored as float32, RTN (speed does not depend on the method);',
    'every linear and the tied embedding/lm_head table in int4 (`--quant int4 --quant-embeddings int4`); fused pipeline.',
    `Prefill: ${a.prefill} tokens from an empty cache; decode: ${a.decode} tokens, one at a time after that prefill, caches fed back; median of ${a.reps} rounds, the variants taking turns within each round.`,
    `1-minute load average: ${loadBefore.toFixed(1)} before the rounds, ${loadAfter.toFixed(1)} after (other processes share the machine when it is above the thread count).`,
    '',
    '| op flavour | prefill tok/s | decode tok/s | session load s | emit s | model.onnx KiB | model.onnx.data MiB | bits/parameter (file) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...results.map((r) => {
      const s = sizes.get(r.variant.label);
      return `| ${r.variant.label} | ${r.prefillTps.toFixed(1)} | ${r.decodeTps.toFixed(2)} | ${r.loadS.toFixed(1)} | ${s ? s.emitS.toFixed(1) : '?'} | ${s ? (s.model / 1024).toFixed(1) : '?'} | ${s ? mib(s.data) : '?'} | ${s ? s.bitsPerParam.toFixed(3) : '?'} |`;
    }),
    '',
    'bits/parameter = 8 x model.onnx.data bytes / parameters of the model (a tied table counted once).',
    'int4 linear weights cost 4 + 32/32 (float32 scale) + 4/32 (zero point) = 5.125 bits each; norms stay float32.',
    'The standard flavour stores the tied int4 table twice (ONNX has no 4-bit gather and no bitcast: rows for the',
    'embedding gather, [K, N] blocks for DequantizeLinear + MatMul), hence its larger file.',
    'Accuracy level: MatMulNBits `accuracy_level` attribute (ort) / onnxruntime session option',
    '`session.qdq_matmulnbits_accuracy_level` for the DequantizeLinear + MatMul pairs it fuses into MatMulNBits (standard).',
    'Level 0 computes in float32 and matches the reference interpreter to ~1e-6; level 4 quantizes activations to int8 per block.',
    '',
  ];
  mkdirSync(dirname(a.out), { recursive: true });
  writeFileSync(a.out, lines.join('\n'));
  console.log(lines.join('\n'));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
