// RoPE inverse frequencies exactly as transformers computes them: every step rounded to float32,
// because at position 100000 a one-ulp difference in inv_freq moves the angle visibly.

import type { RopeScaling } from '../checkpoint/config.js';

const f = Math.fround;

export function ropeInvFreq(headDim: number, theta: number, scaling: RopeScaling): Float32Array {
  const half = headDim / 2;
  const inv = new Float32Array(half);
  for (let i = 0; i < half; i++) {
    const exponent = f((2 * i) / headDim);
    inv[i] = f(1 / f(Math.pow(theta, exponent)));
  }
  if (scaling.type === 'default') return inv;
  const { factor, lowFreqFactor, highFreqFactor, originalMaxPositions } = scaling;
  const lowFreqWavelen = originalMaxPositions / lowFreqFactor;
  const highFreqWavelen = originalMaxPositions / highFreqFactor;
  const twoPi = f(2 * Math.PI);
  const out = new Float32Array(half);
  for (let i = 0; i < half; i++) {
    const freq = inv[i];
    const wavelen = f(twoPi / freq);
    const llama = wavelen > lowFreqWavelen ? f(freq / f(factor)) : freq;
    const smooth = f(f(f(f(originalMaxPositions) / wavelen) - f(lowFreqFactor)) / f(highFreqFactor - lowFreqFactor));
    const smoothed = f(f(f(f(1 - smooth) * llama) / f(factor)) + f(smooth * llama));
    const isMedium = !(wavelen < highFreqWavelen) && !(wavelen > lowFreqWavelen);
    out[i] = isMedium ? smoothed : llama;
  }
  return out;
}

/** The rotation angle transformers uses: float32(position) * float32(inv_freq), rounded to float32. */
export function ropeAngle(position: number, invFreq: number): number {
  return f(f(position) * invFreq);
}
