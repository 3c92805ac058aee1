// End-to-end compile speed and memory on the 1B-shaped checkpoint (issue 13): read, fuse,
// quantize, write the ONNX artifact, as a user runs it. Each run is a fresh `llamac compile`
// process under GNU time (wall, user+sys CPU, peak RSS); the checkpoint is read once beforehand so
// the page cache is warm. llama.cpp is not a dependency: its column quotes the figures measured on
// the same shape and 2 cores when the issue was filed.
// Run: npm run bench:compile [-- --model DIR] [-- --only rtn,int8] [-- --big-layers N] [-- --json]
// (creates bench/.cache/llama-3.2-1b, and bench/.cache/llama-3.2-3b[-Nl] for the 3B memory row)

import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCheckpoint, checkpointStats } from '../compiler/checkpoint/checkpoint.js';
import { synthCheckpoint } from '../compiler/synth.js';

interface Run {
  readonly name: string;
  readonly args: readonly string[];
  /** llama-quantize on the same shape and cores (issue 13), quoted, not run here. */
  readonly llamaCpp: string;
  /** Issue 13's targets. */
  readonly target: string;
}

const RUNS: readonly Run[] = [
  { name: 'int4 rtn', args: ['--quant', 'int4', '--quant-method', 'rtn'], llamaCpp: 'Q4_0 10.4 s', target: '<= 10 s' },
  { name: 'int4 search', args: ['--quant', 'int4', '--quant-method', 'search'], llamaCpp: 'Q4_K_M 38 s', target: '<= 38 s' },
  { name: 'int8', args: ['--quant', 'int8'], llamaCpp: 'Q8_0 8.6 s', target: '<= 9 s' },
  { name: 'int4 default', args: ['--quant', 'int4'], llamaCpp: '-', target: '<= 10 min (AWQ+GPTQ)' },
];

interface Measured {
  readonly run: string;
  readonly wall_s: number;
  readonly cpu_s: number;
  readonly ns_per_weight: number;
  readonly peak_rss_mb: number;
  readonly load_before: number;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function ensure(preset: 'llama-3.2-1b' | 'llama-3.2-3b', dir: string, layers?: number): void {
  if (existsSync(dir)) return;
  const t = performance.now();
  synthCheckpoint(preset, dir, layers ? { layers } : {});
  console.error(`synthesized ${dir} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
}

/** Reads the checkpoint files once so every run starts from a warm page cache. */
function warm(dir: string): void {
  const buf = new Uint8Array(16 << 20);
  for (const f of openCheckpoint(dir).files) {
    const fd = openSync(f, 'r');
    try {
      while (readSync(fd, buf, 0, buf.length, null) > 0);
    } finally {
      closeSync(fd);
    }
  }
}

function compile(model: string, run: Run, weights: number): Measured {
  const out = mkdtempSync(join(tmpdir(), 'llamac-bench-compile-'));
  const dest = join(out, 'artifact');
  const load = loadavg()[0];
  try {
    const r = spawnSync('/usr/bin/time', ['-f', 'TIME %e %U %S %M', process.execPath, join('dist', 'bin', 'llamac.js'), 'compile', model, '--target', 'onnx', ...run.args, '--out', dest], {
      encoding: 'utf8',
    });
    if (r.error) throw new Error(`cannot run /usr/bin/time (GNU time): ${r.error.message}`);
    const line = r.stderr.split('\n').find((l) => l.startsWith('TIME '));
    if (r.status !== 0 || !line) throw new Error(`${run.name} failed:\n${r.stderr}`);
    const [wall, user, sys, rssKb] = line.split(' ').slice(1).map(Number);
    return { run: run.name, wall_s: wall, cpu_s: user + sys, ns_per_weight: ((user + sys) * 1e9) / weights, peak_rss_mb: rssKb / 1024, load_before: load };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

function main(): void {
  const model = arg('--model') ?? join('bench', '.cache', 'llama-3.2-1b');
  ensure('llama-3.2-1b', model);
  const only = arg('--only')?.split(',');
  const weights = checkpointStats(openCheckpoint(model)).params;
  warm(model);
  const results: Measured[] = [];
  for (const run of RUNS) {
    if (only && !only.some((o) => run.name.includes(o))) continue;
    results.push(compile(model, run, weights));
    console.error(JSON.stringify(results[results.length - 1]));
  }
  let big: Measured | null = null;
  if (!only || only.includes('3b')) {
    const layers = arg('--big-layers') ? Number(arg('--big-layers')) : undefined;
    const dir = join('bench', '.cache', `llama-3.2-3b${layers ? `-${layers}l` : ''}`);
    ensure('llama-3.2-3b', dir, layers);
    warm(dir);
    big = compile(dir, RUNS[1], checkpointStats(openCheckpoint(dir)).params);
    console.error(JSON.stringify({ ...big, run: `3B${layers ? ` (${layers} layers)` : ''} int4 search` }));
  }
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify({ model, weights, results, big }, null, 2));
    return;
  }
  console.log(`checkpoint ${model}: ${(weights / 1e9).toFixed(3)}B weights (bf16); 2-core machine, load average ${loadavg()[0].toFixed(1)} after the runs\n`);
  console.log('| run | wall s | CPU s (user+sys) | CPU ns/weight | peak RSS MB | load before | llama.cpp (quoted) | target |');
  console.log('|---|---:|---:|---:|---:|---:|---|---|');
  for (const [i, m] of results.entries()) {
    const run = RUNS.find((r) => r.name === m.run) ?? RUNS[i];
    console.log(`| ${m.run} | ${m.wall_s.toFixed(1)} | ${m.cpu_s.toFixed(1)} | ${m.ns_per_weight.toFixed(1)} | ${m.peak_rss_mb.toFixed(0)} | ${m.load_before.toFixed(1)} | ${run.llamaCpp} | ${run.target} |`);
  }
  if (big) console.log(`| 3B-shaped int4 search | ${big.wall_s.toFixed(1)} | ${big.cpu_s.toFixed(1)} | ${big.ns_per_weight.toFixed(1)} | ${big.peak_rss_mb.toFixed(0)} | ${big.load_before.toFixed(1)} | - | peak RSS < 3 GB |`);
}

main();
