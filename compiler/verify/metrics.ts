// Logit comparison metrics, computed in float64.

export function maxAbsError(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = d; // NaN propagates as the maximum
  }
  return m;
}

export function argmax(row: Float32Array | Float64Array, offset = 0, length = row.length - offset): number {
  let best = 0;
  let bestV = -Infinity;
  for (let i = 0; i < length; i++) {
    const v = row[offset + i];
    if (v > bestV) {
      bestV = v;
      best = i;
    }
  }
  return best;
}

/** log-softmax of row [offset, offset+V) into a new Float64Array. */
export function logSoftmax(row: Float32Array, offset: number, V: number): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < V; i++) max = Math.max(max, row[offset + i]);
  let sum = 0;
  for (let i = 0; i < V; i++) sum += Math.exp(row[offset + i] - max);
  const lse = max + Math.log(sum);
  const out = new Float64Array(V);
  for (let i = 0; i < V; i++) out[i] = row[offset + i] - lse;
  return out;
}

/** Fraction of rows whose argmax agrees. */
export function top1Agreement(golden: Float32Array, got: Float32Array, V: number): number {
  const rows = golden.length / V;
  let same = 0;
  for (let r = 0; r < rows; r++) if (argmax(golden, r * V, V) === argmax(got, r * V, V)) same++;
  return same / rows;
}

/** Mean over rows of KL(golden || got) in nats. */
export function meanKl(golden: Float32Array, got: Float32Array, V: number): number {
  const rows = golden.length / V;
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const p = logSoftmax(golden, r * V, V);
    const q = logSoftmax(got, r * V, V);
    let kl = 0;
    for (let i = 0; i < V; i++) kl += Math.exp(p[i]) * (p[i] - q[i]);
    total += Math.max(0, kl);
  }
  return total / rows;
}
