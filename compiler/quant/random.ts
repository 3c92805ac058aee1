// Deterministic pseudo-random data for the quantization tests and benchmark (no Math.random:
// failures must reproduce).

import { rng } from '../random.js';

export { rng };

/** Standard normal sampler (Box-Muller). */
export function gaussian(seed: number): () => number {
  const u = rng(seed);
  return () => {
    const a = Math.max(u(), 1e-12);
    return Math.sqrt(-2 * Math.log(a)) * Math.cos(2 * Math.PI * u());
  };
}

/** n values of N(0, std²). */
export function gaussianArray(n: number, seed: number, std = 1): Float32Array {
  const g = gaussian(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = g() * std;
  return out;
}

/** n values of Student's t with `dof` degrees of freedom: heavy tails like real LLM weights' outliers. */
export function studentTArray(n: number, seed: number, dof = 3, std = 1): Float32Array {
  const g = gaussian(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let chi = 0;
    for (let j = 0; j < dof; j++) {
      const z = g();
      chi += z * z;
    }
    out[i] = (g() / Math.sqrt(chi / dof)) * std;
  }
  return out;
}
