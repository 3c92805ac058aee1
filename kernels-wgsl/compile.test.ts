import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileErrors, openGpu, pipelineErrors, repoRoot, type Gpu, type OverrideValues } from './gpu.js';
import { KERNELS, type KernelSpec, type MatVariant } from './kernels.js';

// backend=null: Dawn parses, validates and builds every pipeline without a driver, so this runs
// anywhere (and catches WGSL errors in variants the local adapter could not execute).
let gpu: Gpu | null = null;
beforeAll(async () => {
  gpu = await openGpu({ backend: 'null' });
});
afterAll(() => gpu?.destroy());

const MATRIX = new Set(['gemv', 'gemm', 'embed']);
function overrideSets(name: string, file: string): OverrideValues[] {
  // int8 activations: int4 (symmetric, asymmetric with f32 scales) and int8 weights, several geometries
  if (name === 'gemv_q8') {
    const geo: OverrideValues[] = file.includes('_sg') ? [{ WG: 256, GROUPS: 8, ROWS: 8, UNROLL: 2 }, { WG: 4, GROUPS: 1, ROWS: 1 }] : [{ WG: 256, TPR: 32, ROWS: 8, UNROLL: 2 }, { WG: 4, TPR: 1, ROWS: 1 }];
    return [{ KIND: 0 }, { KIND: 0, GROUP: 128, SCALE_F16: false, HAS_ZEROS: true, ...geo[0] }, { KIND: 1, ...geo[1] }];
  }
  if (!MATRIX.has(name)) return [{}];
  const sets: OverrideValues[] = [];
  for (const KIND of [0, 1, 2, 3]) sets.push({ KIND, SCALE_F16: KIND !== 3, HAS_ZEROS: false });
  sets.push({ KIND: 0, GROUP: 128, SCALE_F16: false, HAS_ZEROS: true });
  // rg: whole-K x staging (XS slots), row groups per subgroup, unrolled chunk loop
  if (file === 'gemv_rg.wgsl') sets.push({ KIND: 0, WG: 256, GROUPS: 8, ROWS: 8, UNROLL: 2, XS: 900 }, { KIND: 1, WG: 4, GROUPS: 1, ROWS: 1, XS: 5 });
  else if (name === 'gemv') sets.push({ KIND: 0, WG: 64, ROWS: 8, XS: 576 }, { KIND: 1, WG: 32, ROWS: 1, STAGE_X: false, XS: 1 });
  // the f16-decode files have no MAGIC override
  if (name === 'gemv' && !file.includes('f16')) sets.push({ KIND: 0, MAGIC: false }, { KIND: 1, MAGIC: false });
  return sets;
}

describe('every kernel variant compiles on backend=null', () => {
  it('the null adapter offers shader-f16 and subgroups, so every variant is checked', () => {
    if (!gpu) throw new Error('Dawn backend=null adapter missing');
    expect(gpu.features.f16 && gpu.features.subgroups).toBe(true);
  });
  it('the check reports errors (an over-limit workgroup size is rejected)', async () => {
    if (!gpu) throw new Error('Dawn backend=null adapter missing');
    expect((await pipelineErrors(gpu, 'gemv.wgsl', { WG: 4096, XS: 1 })).length).toBeGreaterThan(0);
  });
  it('every .wgsl file is in the kernel table', () => {
    const files = readdirSync(join(repoRoot(), 'kernels-wgsl', 'wgsl')).filter((f) => f.endsWith('.wgsl'));
    const listed = new Set<string>();
    for (const spec of Object.values(KERNELS) as KernelSpec[]) for (const v of Object.values(spec.variants)) if (v) listed.add(v.file);
    expect(files.sort()).toEqual([...listed].sort());
  });
  for (const [name, spec] of Object.entries(KERNELS) as [string, KernelSpec][]) {
    for (const variant of Object.keys(spec.variants) as MatVariant[]) {
      const file = spec.variants[variant]?.file ?? '';
      it(`${name}/${variant} (${file})`, async () => {
        if (!gpu) throw new Error('Dawn backend=null adapter missing');
        expect(await compileErrors(gpu, file)).toEqual([]);
        for (const o of overrideSets(name, file)) expect(await pipelineErrors(gpu, file, o), JSON.stringify(o)).toEqual([]);
      });
    }
  }
});
