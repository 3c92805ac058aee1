// Benchmark (not a test) for kernels-arm: guest instructions per weight, counted by the qemu TCG
// plugin in bench/tools/qemu-insncount.c. Deterministic: the same binary and input give the same
// count on every run. For each path and weight type the driver runs twice under
// `qemu-aarch64 -cpu max` with LK_PATH forcing the path: once with 0 matmul calls and once with 1;
// the difference is exactly one call (activation quantization included), setup cancels.
//   gemv:   4096x4096 weight, one token;   ipw = instructions / (N*K)
//   gemm64: 4096x4096 weight, 64 tokens;   ipw = instructions / (N*K*64)  (per weight per token)
// int4 = symmetric, groups of 32, f16 scales (llama.cpp Q4_0's quantized values); int8 = per
// output channel; f16 = half weights, f32 accumulation.
//   npm run bench:kernels-arm [-- --json]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

type Path = 'neon' | 'dotprod' | 'i8mm';
type WType = 'int4' | 'int8' | 'f16';
type Table = Record<Path, Record<WType, number>>;

interface PluginCounts {
  total: number;
  mnemonics: Record<string, number>;
}

const PATHS: readonly Path[] = ['neon', 'dotprod', 'i8mm'];
const TYPES: readonly WType[] = ['int4', 'int8', 'f16'];
const N = 4096;
const K = 4096;
const GEMM_TOKENS = 64;

function findRoot(): string {
  // dist/bench/kernels-arm.js -> repo root; also works when run from bench/ via a TS loader.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    try {
      readFileSync(join(dir, 'kernels-arm', 'Makefile'));
      return dir;
    } catch {
      dir = resolve(dir, '..');
    }
  }
  throw new Error('kernels-arm/Makefile not found above ' + fileURLToPath(import.meta.url));
}

function build(root: string): { bench: string; plugin: string } {
  const ka = join(root, 'kernels-arm');
  execFileSync('make', ['-C', ka, '-j2', 'build/generic/lk_bench'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const plugin = join(ka, 'build', 'insncount.so');
  execFileSync('gcc', ['-O2', '-shared', '-fPIC', join(root, 'bench', 'tools', 'qemu-insncount.c'), '-o', plugin], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return { bench: join(ka, 'build', 'generic', 'lk_bench'), plugin };
}

function count(bench: string, plugin: string, out: string, path: Path, type: WType, m: number, calls: number): number {
  execFileSync(
    'qemu-aarch64',
    ['-cpu', 'max', '-plugin', `${plugin},out=${out}`, bench, type, String(m), String(calls), String(N), String(K)],
    { env: { ...process.env, LK_PATH: path }, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const parsed = JSON.parse(readFileSync(out, 'utf8')) as PluginCounts;
  if (typeof parsed.total !== 'number') throw new Error(`bad plugin output in ${out}`);
  return parsed.total;
}

function measure(bench: string, plugin: string, m: number): Table {
  const dir = mkdtempSync(join(tmpdir(), 'lk-bench-'));
  const out = join(dir, 'counts.json');
  const table = {} as Table;
  try {
    for (const path of PATHS) {
      const row = {} as Record<WType, number>;
      for (const type of TYPES) {
        const base = count(bench, plugin, out, path, type, m, 0);
        const one = count(bench, plugin, out, path, type, m, 1);
        row[type] = Math.round(((one - base) / (N * K * m)) * 1e4) / 1e4;
      }
      table[path] = row;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return table;
}

function markdown(name: string, t: Table): string {
  const lines = [`| ${name} | ${TYPES.join(' | ')} |`, `|---|${TYPES.map(() => '---:').join('|')}|`];
  for (const p of PATHS) lines.push(`| ${p} | ${TYPES.map((ty) => t[p][ty].toFixed(4)).join(' | ')} |`);
  return lines.join('\n');
}

function main(): void {
  const json = process.argv.includes('--json');
  const root = findRoot();
  const { bench, plugin } = build(root);
  const result = { gemv: measure(bench, plugin, 1), gemm64: measure(bench, plugin, GEMM_TOKENS) };
  if (json) {
    process.stdout.write(JSON.stringify(result) + '\n');
    return;
  }
  process.stdout.write('guest instructions per weight (qemu-aarch64 -cpu max, 4096x4096)\n\n');
  process.stdout.write(markdown('gemv', result.gemv) + '\n\n' + markdown('gemm64 (per weight per token)', result.gemm64) + '\n');
}

main();
