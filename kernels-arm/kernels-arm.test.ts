// kernels-arm: builds the NEON kernel library with the aarch64 cross compiler and runs the C test
// driver under qemu-aarch64 on three CPUs, so each path and the run-time dispatch are exercised:
//   -cpu max        -> i8mm (SMMLA + SDOT), also checks neon and dotprod paths
//   -cpu cortex-a76 -> dotprod (no i8mm)
//   -cpu cortex-a72 -> neon (no dotprod)
// Then every CPU preset in kernels-arm/presets.mk is compiled. Needs .ci/install-arm.sh.
import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

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
  execFileSync('make', ['-C', dir, '-j2', 'build/generic/lk_test'], { stdio: ['ignore', 'ignore', 'pipe'] });
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
      for (const op of ['rmsnorm', 'rope', 'softmax', 'swiglu', 'add', 'argmax', 'attention prefill', 'attention decode', 'embed int4', 'embed int8', 'embed f16'])
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

  it('every CPU preset compiles with the cross compiler', () => {
    const r = spawnSync('make', ['-C', dir, 'presets-check'], { encoding: 'utf8', timeout: 240_000 });
    expect(r.status, r.stderr).toBe(0);
    const ok = r.stdout.split('\n').filter((l) => /^preset [\w-]+: ok/.test(l));
    expect(ok.length).toBe(10);
  }, 300_000);
});
