// Benchmark (not a test) of the NEON target on the 1B-shaped synthetic checkpoint, int4: guest
// instructions per decoded token (and per token of a 64-token prefill) under qemu-aarch64 -cpu max
// with the instruction-count plugin, on the dotprod and i8mm paths, beside the sum of that token's
// matmuls alone (kernels-arm's lk_bench on the same shapes), so the cost of everything that is not
// a matmul shows; weight bytes touched per token against weights.bin; llamac-run's peak RSS.
//   npm run bench:neon [-- --layers N] [-- --json]
// Counts are differences of whole runs (load cancels): decode = (prefill 64 + 3 decodes) - (prefill
// 64) over 3; prefill = ((prefill 64) - (prefill 1)) / 63. Deterministic: same binary, same count.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildForTarget, emitArtifact, loadModel } from '../compiler/compile.js';
import { makeQuantConfig } from '../compiler/passes/quant-config.js';
import { synthCheckpoint } from '../compiler/synth.js';
import { repoRoot } from '../compiler/targets/neon/artifact.js';
import { buildRunner } from '../compiler/targets/neon/runner.js';

type Path = 'dotprod' | 'i8mm';
const PATHS: readonly Path[] = ['dotprod', 'i8mm'];
const PREFILL = 64;
const DECODES = 3;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function plugin(root: string): string {
  const so = join(root, 'kernels-arm', 'build', 'insncount.so');
  execFileSync('gcc', ['-O2', '-shared', '-fPIC', join(root, 'bench', 'tools', 'qemu-insncount.c'), '-o', so]);
  return so;
}

function counted(so: string, exe: string, args: string[], path: Path): number {
  const dir = mkdtempSync(join(tmpdir(), 'neon-bench-'));
  try {
    const out = join(dir, 'c.json');
    execFileSync('qemu-aarch64', ['-cpu', 'max', '-plugin', `${so},out=${out}`, exe, ...args], { env: { ...process.env, LK_PATH: path }, stdio: ['ignore', 'ignore', 'inherit'] });
    return (JSON.parse(readFileSync(out, 'utf8')) as { total: number }).total;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** weights.bin's tensor table (runtime/lc_format.h): type, N, K, bytes. */
function tensorTable(file: string): { type: number; N: number; K: number; bytes: number }[] {
  const b = readFileSync(file).subarray(0, 1 << 20);
  const n = b.readUInt32LE(24);
  const at = Number(b.readBigUInt64LE(72));
  return Array.from({ length: n }, (_, i) => ({
    type: b.readUInt32LE(at + 48 * i),
    N: b.readUInt32LE(at + 48 * i + 4),
    K: b.readUInt32LE(at + 48 * i + 8),
    bytes: Number(b.readBigUInt64LE(at + 48 * i + 32)),
  }));
}

async function main(): Promise<void> {
  const root = repoRoot();
  const layers = Number(arg('--layers') ?? 16);
  const ck = join(root, 'bench', '.cache', layers === 16 ? 'llama-3.2-1b' : `llama-3.2-1b-L${layers}`);
  if (!existsSync(join(ck, 'config.json'))) {
    console.error(`synthesizing llama-3.2-1b (${layers} layers) into ${ck}`);
    synthCheckpoint('llama-3.2-1b', ck, layers === 16 ? {} : { layers });
  }
  const out = join(root, 'bench', '.cache', `neon-1b-int4-L${layers}`);
  if (!existsSync(join(out, 'weights.bin'))) {
    console.error(`compiling ${ck} -> ${out} (int4 g32 sym f16 scales, RTN, int4 embeddings)`);
    const quant = makeQuantConfig({ quant: 'int4', method: 'rtn', symmetric: true, quantEmbeddings: 'int4' });
    const built = await buildForTarget(await loadModel(ck), { target: 'neon', quant, fuse: true, targetOptions: { maxSeq: '256' }, recordedOptions: { quant: 'int4' }, log: (m) => console.error(m) });
    await emitArtifact(built, out);
  }
  const exe = buildRunner(out, (m) => console.error(m));
  const so = plugin(root);
  const ids = (n: number): string => Array.from({ length: n }, (_, i) => String(1 + ((i * 7919) % 1000))).join(',');
  const run = (n: number, greedy: number) => [out, '--no-verify', '--ids', ids(n), '--greedy', String(greedy)];
  const t = tensorTable(join(out, 'weights.bin'));
  const config = JSON.parse(readFileSync(join(ck, 'config.json'), 'utf8')) as { hidden_size: number; intermediate_size: number; num_attention_heads: number; num_key_value_heads: number; vocab_size: number };
  const H = config.hidden_size;
  const F = config.intermediate_size;
  const hd = H / config.num_attention_heads;
  const qkv = (config.num_attention_heads + 2 * config.num_key_value_heads) * hd;
  // the matmuls of one token: per layer qkv, o, gate|up, down; then the lm_head (tied: the int4 table)
  const shapes: Array<[number, number, number]> = [
    [qkv, H, layers],
    [H, H, layers],
    [2 * F, H, layers],
    [H, F, layers],
    [config.vocab_size, H, 1],
  ];
  execFileSync('make', ['-C', join(root, 'kernels-arm'), '-j2', 'build/generic/lk_bench'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const lkBench = join(root, 'kernels-arm', 'build', 'generic', 'lk_bench');
  const result: Record<string, unknown> = {};
  for (const path of PATHS) {
    const p1 = counted(so, exe, run(1, 1), path);
    const p64 = counted(so, exe, run(PREFILL, 1), path);
    const dec = counted(so, exe, run(PREFILL, 1 + DECODES), path);
    const decode = (dec - p64) / DECODES;
    const prefill = (p64 - p1) / (PREFILL - 1);
    let gemv = 0;
    let gemm = 0;
    for (const [N, K, times] of shapes) {
      const one = (m: number, calls: number) => counted(so, lkBench, ['int4', String(m), String(calls), String(N), String(K)], path);
      gemv += (one(1, 1) - one(1, 0)) * times;
      // per token of a 64-token GEMM; the lm_head is not in a prefill token's marginal cost (last row only)
      if (N !== config.vocab_size) gemm += ((one(PREFILL, 1) - one(PREFILL, 0)) / PREFILL) * times;
    }
    result[path] = { decode_insns: decode, decode_gemv_insns: gemv, decode_overhead: decode / gemv - 1, prefill_insns_per_token: prefill, prefill_gemm_insns_per_token: gemm, prefill_overhead: prefill / gemm - 1 };
  }
  const weightsBytes = statSync(join(out, 'weights.bin')).size;
  // every matrix is read once per decoded token (the tied table: the lm_head GEMV; the embedding
  // gather reads one row of it); vectors (norms, inv_freq) too
  const touched = t.reduce((s, x) => s + x.bytes, 0);
  const time = spawnSync('/usr/bin/time', ['-v', 'qemu-aarch64', '-cpu', 'max', exe, ...run(PREFILL, 17)], { encoding: 'utf8' });
  const rss = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(time.stderr)?.[1] ?? NaN) * 1024;
  const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { options: { maxSeq: number } };
  const kv = 2 * layers * config.num_key_value_heads * m.options.maxSeq * hd * 4;
  Object.assign(result, { layers, weights_bin_bytes: weightsBytes, bytes_touched_per_decode_token: touched, peak_rss_bytes: rss, kv_cache_bytes: kv, rss_beyond_weights_and_kv: rss - weightsBytes - kv });
  console.log(JSON.stringify(result));
}

await main();
