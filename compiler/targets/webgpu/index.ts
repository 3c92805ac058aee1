// The WebGPU target: `llamac compile --target webgpu` writes a folder a browser (or Node with the
// `webgpu` package) loads with its bundled runtime. See README.md in this folder.

import { DEFAULT_PIPELINE } from '../../passes/registry.js';
import type { Target } from '../target.js';
import { emitWebGpu } from './emit.js';
import { webgpuRunner } from './runner.js';

export const webgpuTarget: Target = {
  name: 'webgpu',
  pipeline: DEFAULT_PIPELINE,
  emit: async (graph, outDir, ctx) => {
    const s = emitWebGpu(graph, outDir, ctx);
    ctx.log(`webgpu: ${(s.weightBytes / 2 ** 20).toFixed(1)} MiB of weights in ${s.shards} shard(s); ${s.steps.decode} steps per decoded token, ${s.steps.prefill} per prefill chunk`);
  },
  load: async (dir, graph) => webgpuRunner(dir, graph),
};
