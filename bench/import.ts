// Import and fully read the 1B-shaped synthetic checkpoint: seconds, GB/s, peak RSS.
// Reads each tensor in row chunks (as the quantizer and emitters do), so memory stays bounded.
// Run: npm run bench:import  (creates bench/.cache/llama-3.2-1b on first use)

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openCheckpoint } from '../compiler/checkpoint/checkpoint.js';
import { importLlama } from '../compiler/frontend/llama.js';
import { synthCheckpoint } from '../compiler/synth.js';

const CHUNK_BYTES = 64 << 20;

function main(): void {
  const dir = process.argv[2] ?? join('bench', '.cache', 'llama-3.2-1b');
  if (!existsSync(dir)) {
    const t = performance.now();
    synthCheckpoint('llama-3.2-1b', dir);
    console.error(`synthesized ${dir} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  const t0 = performance.now();
  const ck = openCheckpoint(dir);
  const graph = importLlama(ck);
  const tImport = performance.now() - t0;
  let bytes = 0;
  let peakRss = process.memoryUsage().rss;
  const t1 = performance.now();
  for (const ref of ck.tensors.values()) {
    const rows = ref.shape.length === 1 ? 1 : ref.shape[0];
    const rowBytes = ref.byteLength / rows;
    const step = Math.max(1, Math.floor(CHUNK_BYTES / rowBytes));
    for (let r = 0; r < rows; r += step) {
      const n = Math.min(step, rows - r);
      ck.readRows(ref.name, r, n);
      bytes += n * rowBytes;
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }
  }
  const tRead = performance.now() - t1;
  const result = {
    checkpoint: dir,
    tensors: ck.tensors.size,
    ir_nodes: graph.nodes.length,
    checkpoint_gb: bytes / 1e9,
    import_s: tImport / 1000,
    read_s: tRead / 1000,
    read_gbps: bytes / 1e9 / (tRead / 1000),
    peak_rss_mb_sampled: peakRss / 2 ** 20,
  };
  console.log(JSON.stringify(result, null, 2));
}

main();
