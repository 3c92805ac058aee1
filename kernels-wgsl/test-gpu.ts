// The test files' shared device: opened once per file before its tests, destroyed after them.
import { afterAll, beforeAll } from 'vitest';
import { openGpu, type Gpu } from './gpu.js';

/** Registers the hooks; the returned function gives the device or fails with how to get one. */
export function useGpu(): () => Gpu {
  let gpu: Gpu | null = null;
  beforeAll(async () => {
    gpu = await openGpu();
  });
  afterAll(() => gpu?.destroy());
  return () => {
    if (!gpu) throw new Error('no WebGPU adapter: run .ci/install-wgsl.sh (Mesa 25 lavapipe)');
    return gpu;
  };
}
