// kernels-arm: builds the NEON kernel library with the aarch64 cross compiler and runs the C test
// driver under qemu-aarch64 on three CPUs, so each path and the run-time dispatch are exercised:
//   -cpu max        -> i8mm (SMMLA + SDOT), also checks neon and dotprod paths
//   -cpu cortex-a76 -> dotprod (no i8mm)
//   -cpu cortex-a72 -> neon (no dotprod)
// Then every CPU preset in kernels-arm/presets.mk is compiled. Needs .ci/install-arm.sh.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { f16BitsToF32, f32ToF16Bits } from '../compiler/ir/half.js';
import { dequantize, groupsPerRow, int4RowBytes, type QuantizedMatrix, type QuantScheme } from '../compiler/ir/quantized.js';

const dir = dirname(fileURLToPath(import.meta.url));
const testBin = join(dir, 'build', 'generic', 'lk_test');

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function qemu(cpu: string, args: string[], env: Record<string, string> = {}): Run {
  const { LK_PATH: _unused, ...base } = process.env;
  const r = spawnSync('qemu-aarch64', ['-cpu', cpu, testBin, ...args], {
    env: { ...base, ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function pathLine(out: string): { detected: string; active: string } {
  const m = /^path detected=(\w+) active=(\w+)$/m.exec(out);
  if (!m) throw new Error('no path line in output:\n' + out.slice(0, 400));
  return { detected: m[1], active: m[2] };
}

beforeAll(() => {
  for (const tool of ['aarch64-linux-gnu-gcc', 'qemu-aarch64', 'make']) {
    const r = spawnSync('sh', ['-c', `command -v ${tool}`]);
    if (r.status !== 0) throw new Error(`${tool} missing: run .ci/install-arm.sh`);
  }
  execFileSync('make', ['-C', dir, '-j2', 'build/generic/lk_test', 'build/generic/lk_matmul_file'], { stdio: ['ignore', 'ignore', 'pipe'] });
}, 300_000);

const cpus: ReadonlyArray<{ cpu: string; best: string; paths: string[]; absent: string[] }> = [
  { cpu: 'max', best: 'i8mm', paths: ['neon', 'dotprod', 'i8mm'], absent: [] },
  { cpu: 'cortex-a76', best: 'dotprod', paths: ['neon', 'dotprod'], absent: ['i8mm'] },
  { cpu: 'cortex-a72', best: 'neon', paths: ['neon'], absent: ['dotprod', 'i8mm'] },
];

describe('kernels-arm under qemu-aarch64', () => {
  for (const { cpu, best, paths, absent } of cpus) {
    it(`every kernel and path matches its scalar twin on -cpu ${cpu}`, () => {
      const r = qemu(cpu, []);
      const fails = r.stdout.split('\n').filter((l) => l.startsWith('FAIL'));
      expect(fails, fails.join('\n')).toEqual([]);
      expect(r.status).toBe(0);
      expect(pathLine(r.stdout)).toEqual({ detected: best, active: best });
      const summary = /^(\d+) cases, 0 failed$/m.exec(r.stdout);
      expect(summary).not.toBeNull();
      // every path this CPU has was compared for every weight type; the others were not run
      for (const p of paths)
        for (const t of ['int4 sym', 'int4 asym', 'int8', 'f16', 'f32'])
          expect(r.stdout).toMatch(new RegExp(`^PASS matmul ${t}.* ${p}-vs-scalar`, 'm'));
      for (const p of absent) expect(r.stdout).not.toContain(`${p}-vs-scalar`);
      for (const op of ['rmsnorm', 'rope', 'rope tables', 'softmax', 'swiglu', 'add', 'argmax', 'kv_store', 'attention prefill', 'attention decode', 'embed int4', 'embed int8', 'embed f16', 'matrix_row'])
        expect(r.stdout).toMatch(new RegExp(`^PASS ${op}`, 'm'));
    });
  }

  it('LK_PATH forces a path, and is clamped to what the CPU supports', () => {
    expect(pathLine(qemu('max', ['--dispatch-only'], { LK_PATH: 'neon' }).stdout).active).toBe('neon');
    expect(pathLine(qemu('max', ['--dispatch-only'], { LK_PATH: 'dotprod' }).stdout).active).toBe('dotprod');
    expect(pathLine(qemu('max', ['--dispatch-only'], { LK_PATH: 'scalar' }).stdout).active).toBe('scalar');
    const clamped = qemu('cortex-a72', ['--dispatch-only'], { LK_PATH: 'i8mm' });
    expect(pathLine(clamped.stdout)).toEqual({ detected: 'neon', active: 'neon' });
    expect(clamped.stderr).toContain('not supported by this CPU');
  });

  it('a forced path runs the whole suite through the dispatcher (LK_PATH=dotprod on -cpu max)', () => {
    const r = qemu('max', [], { LK_PATH: 'dotprod' });
    expect(r.status).toBe(0);
    expect(pathLine(r.stdout)).toEqual({ detected: 'i8mm', active: 'dotprod' });
    expect(r.stdout).toMatch(/^PASS matmul int4 .* dispatch\(dotprod\)$/m);
    expect(r.stdout).not.toMatch(/dispatch\((i8mm|neon|scalar)\)/);
  });

  it('the SMMLA decode variant (LK_I8MM_DECODE=smmla) matches the scalar twin too', () => {
    const r = qemu('max', [], { LK_I8MM_DECODE: 'smmla' });
    const fails = r.stdout.split('\n').filter((l) => l.startsWith('FAIL'));
    expect(fails, fails.join('\n')).toEqual([]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^PASS matmul int4 .*M=1 i8mm-vs-scalar/m);
  });

  it('every CPU preset compiles with the cross compiler', () => {
    const r = spawnSync('make', ['-C', dir, 'presets-check'], { encoding: 'utf8', timeout: 240_000 });
    expect(r.status, r.stderr).toBe(0);
    const ok = r.stdout.split('\n').filter((l) => /^preset [\w-]+: ok/.test(l));
    expect(ok.length).toBe(10);
  }, 300_000);
});

// The TypeScript packer the NEON target emits weights with (compiler/targets/neon/pack.ts) is
// checked byte for byte against the C reference packers in compiler/targets/neon/pack.test.ts.

// End to end on the contract: a QuantizedMatrix exactly as compiler/ir/quantized.ts defines it ->
// raw files -> the C packer -> every kernel path under qemu -cpu max, checked against
// quantized.ts's own dequantize() times x. The only allowed difference is the activation
// rounding to int8 per block of 32 (half a step per weight) plus float summation.
const ACT_ROUND_SLACK = 0.5005;
const TOL_FLOAT_SUM = 2e-6;

describe('kernels-arm against compiler/ir/quantized.ts', () => {
  let seed = 777;
  const rnd = (m: number): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return (seed >>> 8) % m;
  };
  const bytes = (a: ArrayBufferView): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

  function makeInt4(N: number, K: number, G: number, symmetric: boolean, scaleDtype: 'f16' | 'f32'): QuantizedMatrix {
    const scheme: QuantScheme = { bits: 4, groupSize: G, symmetric, scaleDtype, method: 'rtn' };
    const nGroups = groupsPerRow(K, G);
    const rowBytes = int4RowBytes(K, G);
    const zeros = symmetric ? null : Uint8Array.from({ length: N * nGroups }, () => rnd(16));
    const scales = Float32Array.from({ length: N * nGroups }, () => {
      const v = 0.002 + rnd(1000) * 3e-5;
      return scaleDtype === 'f16' ? f16BitsToF32(f32ToF16Bits(v)) : v;
    });
    const data = new Uint8Array(N * rowBytes);
    for (let n = 0; n < N; n++)
      for (let k = 0; k < nGroups * G; k++) {
        const q = k < K ? rnd(16) : zeros ? zeros[n * nGroups + Math.floor(k / G)] : 8;
        data[n * rowBytes + (k >> 1)] |= q << (k & 1 ? 4 : 0);
      }
    return { scheme, rows: N, cols: K, nGroups, data, scales, zeros };
  }

  function makeInt8(N: number, K: number): QuantizedMatrix {
    const scheme: QuantScheme = { bits: 8, groupSize: K, symmetric: true, scaleDtype: 'f32', method: 'rtn' };
    const data = Int8Array.from({ length: N * K }, () => rnd(255) - 127);
    const scales = Float32Array.from({ length: N }, () => 0.001 + rnd(1000) * 1e-5);
    return { scheme, rows: N, cols: K, nGroups: 1, data, scales, zeros: null };
  }

  function runAll(q: QuantizedMatrix, M: number): void {
    const tmp = mkdtempSync(join(tmpdir(), 'lk-mm-'));
    try {
      const { rows: N, cols: K, scheme } = q;
      const x = Float32Array.from({ length: M * K }, () => (rnd(20001) - 10000) / 5000);
      writeFileSync(join(tmp, 'data.bin'), bytes(q.data));
      writeFileSync(join(tmp, 'scales.bin'), scheme.scaleDtype === 'f16' ? bytes(Uint16Array.from(q.scales, f32ToF16Bits)) : bytes(q.scales));
      if (q.zeros) writeFileSync(join(tmp, 'zeros.bin'), bytes(q.zeros));
      writeFileSync(join(tmp, 'x.bin'), bytes(x));
      const args = [scheme.bits === 4 ? 'q4' : 'q8', N, K, scheme.groupSize, scheme.symmetric ? 1 : 0, scheme.scaleDtype === 'f16' ? 1 : 0, M, tmp].map(String);
      const out = execFileSync('qemu-aarch64', ['-cpu', 'max', join(dir, 'build', 'generic', 'lk_matmul_file'), ...args], { encoding: 'utf8' });
      const paths = out.trim().split('\n');
      expect(paths).toEqual(['scalar', 'neon', 'dotprod', 'i8mm']);
      const w = dequantize(q);
      const ys = paths.map((p) => {
        const buf = readFileSync(join(tmp, `y_${p}.bin`));
        return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
      });
      for (let t = 0; t < M; t++)
        for (let n = 0; n < N; n++) {
          let ref = 0, absWX = 0, bound = 0;
          for (let b = 0; b * 32 < K; b++) {
            let amax = 0, absW = 0;
            for (let k = b * 32; k < Math.min(K, b * 32 + 32); k++) {
              const wv = w[n * K + k], xv = x[t * K + k];
              ref += wv * xv;
              absWX += Math.abs(wv * xv);
              absW += Math.abs(wv);
              amax = Math.max(amax, Math.abs(xv));
            }
            bound += (absW * amax * ACT_ROUND_SLACK) / 127;
          }
          bound += TOL_FLOAT_SUM * absWX;
          const got = ys[0][t * N + n];
          expect(Math.abs(got - ref), `t=${t} n=${n} ref=${ref} got=${got}`).toBeLessThanOrEqual(bound);
          for (let i = 1; i < ys.length; i++) expect(ys[i][t * N + n], `${paths[i]} t=${t} n=${n}`).toBe(got);
        }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }

  it('int4 (zero points, groups of 64, f16 scales; symmetric, 128, f32) on every path equals dequantize() x x', () => {
    runAll(makeInt4(19, 300, 64, false, 'f16'), 3);
    runAll(makeInt4(10, 250, 128, true, 'f32'), 1);
    runAll(makeInt4(16, 96, 32, true, 'f16'), 4);
  });

  it('int8 per channel on every path equals dequantize() x x', () => {
    runAll(makeInt8(13, 111), 2);
  });
});
