// Deterministic pseudo-random data for the quantization tests and benchmark (no Math.random:
// failures must reproduce).

/** mulberry32: uniform in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
