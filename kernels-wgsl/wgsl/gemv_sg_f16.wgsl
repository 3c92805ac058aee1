enable f16;
enable subgroups;

// GEMV for decode: y[rowBase + r] = sum_k W[r, k] * x[k] over one row shard, f32 accumulation.
// Subgroups variant: reduction with subgroupAdd, one barrier. Needs 'subgroups' and 'shader-f16'.
// shader-f16: weights are dequantized in f16 (q - zero exact, one rounding by the scale);
// products and accumulation stay f32.
// Weight layout (see kernels-wgsl/README.md): each row is chunksPerRow vec4<u32> chunks of
// CH k-values; KIND 0 int4 (CH 32), 1 int8 (CH 16), 2 f16 (CH 8), 3 f32 (CH 4).

// #include gemv-f16.wgsl

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32,
        @builtin(subgroup_invocation_id) lane: u32,
        @builtin(subgroup_id) sg: u32, @builtin(num_subgroups) nsg: u32) {
  let r0 = (wid.x + wid.y * p.gridX) * ROWS;
  var acc = rowSums(r0, t);
  // Subgroup sums, one slot per subgroup (subgroup_id), then ROWS threads add num_subgroups values.
  for (var r = 0u; r < ROWS; r++) {
    let s = subgroupAdd(acc[r]);
    if (lane == 0u) { red[r * WG + sg] = s; }
  }
  workgroupBarrier();
  // ROWS may exceed WG (e.g. 16 rows, 8 threads): each thread writes rows t, t + WG, ...
  for (var r = t; r < ROWS && r0 + r < p.rows; r += WG) {
    var s = 0.0;
    for (var i = 0u; i < nsg; i++) { s += red[r * WG + i]; }
    y[p.rowBase + r0 + r] = s;
  }
}
