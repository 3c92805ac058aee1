// Quantization quality on a real trained model: perplexity change vs float32 and bits per weight
// for every scheme, on stories260K's evaluation stories (calibration text is sampled from the
// model, never the evaluation set). Run: npm run bench:quant [-- --json]

import { join } from 'node:path';
import { openCheckpoint } from '../compiler/checkpoint/checkpoint.js';
import { loadTokenIds, perplexity } from '../compiler/eval/perplexity.js';
import { importLlama } from '../compiler/frontend/llama.js';
import type { Graph } from '../compiler/ir/graph.js';
import { bitsPerWeight } from '../compiler/ir/quantized.js';
import { makeQuantConfig, type QuantCliOptions } from '../compiler/passes/quant-config.js';
import { DEFAULT_PIPELINE } from '../compiler/passes/registry.js';
import { runPipeline } from '../compiler/pipeline.js';
import { referenceRunner } from '../compiler/targets/runner.js';

const VARIANTS: ReadonlyArray<readonly [string, QuantCliOptions]> = [
  ['int8 (per channel)', { quant: 'int8' }],
  ['q4_0 (llama.cpp)', { quant: 'q4_0' }],
  ['int4 g32 sym rtn', { quant: 'int4', method: 'rtn', symmetric: true }],
  ['int4 g32 asym rtn', { quant: 'int4', method: 'rtn' }],
  ['int4 g32 sym search', { quant: 'int4', method: 'search', symmetric: true }],
  ['int4 g32 asym search', { quant: 'int4', method: 'search' }],
  ['int4 g64 asym search', { quant: 'int4', method: 'search', groupSize: 64 }],
  ['int4 g128 asym search', { quant: 'int4', method: 'search', groupSize: 128 }],
  ['int4 g32 asym gptq (self-calibrated)', { quant: 'int4', method: 'gptq' }],
  ['int4 g32 asym awq+gptq (default)', { quant: 'int4' }],
  ['int4 g32 sym awq+gptq', { quant: 'int4', symmetric: true }],
  ['int4 g64 asym awq+gptq', { quant: 'int4', groupSize: 64 }],
  ['int4 g128 asym awq+gptq', { quant: 'int4', groupSize: 128 }],
  ['int4 g32 default + int4 embeddings', { quant: 'int4', quantEmbeddings: 'int4' }],
];

interface Row {
  name: string;
  ppl: number;
  change_pct: number;
  bits_per_weight: number;
  seconds: number;
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const root = process.cwd();
  const ck = openCheckpoint(join(root, 'fixtures', 'stories260K'));
  const ids = loadTokenIds(join(root, 'fixtures', 'stories260K-eval', 'tinystories-valid-ids.json'));
  const evalPpl = async (g: Graph) => (await perplexity(referenceRunner(g, ck), ids, ck.config.maxPositions)).ppl;
  const base = await evalPpl(importLlama(ck));
  const rows: Row[] = [];
  for (const [name, o] of VARIANTS) {
    const t0 = performance.now();
    const g = await runPipeline(importLlama(ck), [...DEFAULT_PIPELINE, 'quantize'], { reader: ck, quant: makeQuantConfig(o), log: () => {} });
    const seconds = (performance.now() - t0) / 1000;
    let bits = 0;
    let weights = 0;
    for (const p of g.params) {
      if (p.param?.kind !== 'quantized') continue;
      const m = p.param.matrix;
      bits += bitsPerWeight(m) * m.rows * m.cols;
      weights += m.rows * m.cols;
    }
    const ppl = await evalPpl(g);
    rows.push({ name, ppl, change_pct: (ppl / base - 1) * 100, bits_per_weight: bits / weights, seconds });
    if (!json) console.error(`${name}: ${ppl.toFixed(4)}`);
  }
  if (json) {
    console.log(JSON.stringify({ model: 'stories260K', baseline_ppl: base, tokens: 1920, rows }, null, 2));
    return;
  }
  console.log(`baseline float32 perplexity ${base.toFixed(4)} (transformers: 3.2575)\n`);
  console.log('| scheme | perplexity | change | bits/weight (quantized matrices) | quantize time (s) |');
  console.log('|---|---:|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.name} | ${r.ppl.toFixed(4)} | ${r.change_pct >= 0 ? '+' : ''}${r.change_pct.toFixed(2)}% | ${r.bits_per_weight.toFixed(3)} | ${r.seconds.toFixed(1)} |`);
}

await main();
