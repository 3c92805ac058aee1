import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['compiler/**/*.test.ts', 'kernels-wgsl/**/*.test.ts', 'kernels-arm/**/*.test.ts', 'test/**/*.test.ts', 'bin/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
