enable f16;

// GEMV for decode: y[rowBase + r] = sum_k W[r, k] * x[k] over one row shard, f32 accumulation.
// f16 variant: reduction through workgroup memory. Needs the 'shader-f16' feature.
// shader-f16: weights are dequantized in f16 (q - zero exact, one rounding by the scale);
// products and accumulation stay f32.
// Weight layout (see kernels-wgsl/README.md): each row is chunksPerRow vec4<u32> chunks of
// CH k-values; KIND 0 int4 (CH 32), 1 int8 (CH 16), 2 f16 (CH 8), 3 f32 (CH 4).

// #include gemv-f16.wgsl

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let r0 = (wid.x + wid.y * p.gridX) * ROWS;
  var acc = rowSums(r0, t);
  for (var r = 0u; r < ROWS; r++) { red[r * WG + t] = acc[r]; }
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (t < s) {
      for (var r = 0u; r < ROWS; r++) { red[r * WG + t] += red[r * WG + t + s]; }
    }
    workgroupBarrier();
  }
  // ROWS may exceed WG (e.g. 16 rows, 8 threads): each thread writes rows t, t + WG, ...
  for (var r = t; r < ROWS && r0 + r < p.rows; r += WG) { y[p.rowBase + r0 + r] = red[r * WG]; }
}
