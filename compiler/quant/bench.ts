// Quantization throughput on a random matrix (default W [2048, 8192], i.e. K = 8192 like
// down_proj of the 1B model). Run after `npm run build`:
//   node dist/compiler/quant/bench.js [--shape 2048x8192] [--threads 2] [--methods search,rtn,q4_0,int8,gptq] [--calib-rows 256]
// Prints one line per method: wall time, CPU time of the whole process (main + workers; on a
// shared machine wall time depends on the load, CPU time much less), weights/s, peak RSS so far.

import { availableParallelism } from 'node:os';
import { HessianAccumulator, prepareGptq } from './gptq.js';
import { QuantPool } from './pool.js';
import type { QuantJob } from './pool.js';
import { gaussianArray, studentTArray } from './random.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}

function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

async function main(): Promise<void> {
  const [N, K] = arg('shape', '2048x8192').split('x').map(Number);
  const threads = Number(arg('threads', String(availableParallelism())));
  const methods = arg('methods', 'rtn,q4_0,int8,search,gptq').split(',');
  const calibRows = Number(arg('calib-rows', '256'));
  const W = studentTArray(N * K, 1, 5, 0.02);
  const pool = new QuantPool({ threads });
  console.log(`W [${N}, ${K}] (${((N * K) / 1e6).toFixed(1)}M weights), threads=${threads}, workers=${pool.parallel}`);
  const time = async (label: string, job: QuantJob): Promise<void> => {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await pool.quantize(job);
    const s = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    const cpu = (c.user + c.system) / 1e6;
    console.log(
      `${label.padEnd(28)} ${s.toFixed(2).padStart(8)} s wall ${cpu.toFixed(2).padStart(8)} s cpu  ${((N * K) / s / 1e6).toFixed(2).padStart(7)} M weights/s  ${((cpu * 1e9) / (N * K)).toFixed(0)} ns cpu/weight  peak RSS ${peakRssMiB().toFixed(0)} MiB`,
    );
  };
  try {
    for (const m of methods) {
      if (m === 'rtn') await time('int4 g32 asym rtn', { kind: 'int4', W, N, K, options: { method: 'rtn' } });
      else if (m === 'search') await time('int4 g32 asym search', { kind: 'int4', W, N, K });
      else if (m === 'q4_0') await time('q4_0', { kind: 'q4_0', W, N, K });
      else if (m === 'int8') await time('int8', { kind: 'int8', W, N, K });
      else if (m === 'gptq') {
        const X = gaussianArray(calibRows * K, 2);
        let t0 = performance.now();
        let c0 = process.cpuUsage();
        const acc = new HessianAccumulator(K);
        acc.addRows(X, calibRows, K);
        const H = acc.hessian();
        const cpuS = (): string => {
          const c = process.cpuUsage(c0);
          return ((c.user + c.system) / 1e6).toFixed(2).padStart(8);
        };
        console.log(`${`hessian (${calibRows} rows)`.padEnd(28)} ${((performance.now() - t0) / 1000).toFixed(2).padStart(8)} s wall ${cpuS()} s cpu`);
        t0 = performance.now();
        c0 = process.cpuUsage();
        const prep = prepareGptq(H, K);
        console.log(`${'gptq prepare (chol, inv)'.padEnd(28)} ${((performance.now() - t0) / 1000).toFixed(2).padStart(8)} s wall ${cpuS()} s cpu  peak RSS ${peakRssMiB().toFixed(0)} MiB`);
        await time('gptq int4 g32 asym (search)', { kind: 'gptq', W, N, K, H: prep });
      } else throw new Error(`unknown method ${m}`);
    }
  } finally {
    await pool.close();
  }
}

await main();
