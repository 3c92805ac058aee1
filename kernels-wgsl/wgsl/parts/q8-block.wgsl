// Piece "q8-block" (not a kernel on its own): spliced into attn_combine_q8.wgsl quant_x.wgsl rmsnorm_q8.wgsl swiglu_q8.wgsl by an include line naming q8-block.wgsl
// (kernels-wgsl/compose.ts). Edit it here once; every variant that includes it changes with it.

// Block b of 32 values as gemv_q8's int8 input: d = max|v| / 127, q = round(v * 127 / max|v|)
// (ties to even) clamped to +-127, packed 4 per word in k order; xd[b] = (d, sum of q), the sum an
// integer (|sum| <= 4064, exact in f32) that lets the GEMV subtract an int4 zero point per block.
fn storeQ8Block(b: u32, v: array<f32, 32>) {
  var amax = 0.0;
  for (var i = 0u; i < 32u; i++) { amax = max(amax, abs(v[i])); }
  let scale = select(0.0, 127.0 / amax, amax > 0.0);
  var sum = 0i;
  for (var j = 0u; j < 8u; j++) {
    let q = clamp(vec4<i32>(round(vec4<f32>(v[4u * j], v[4u * j + 1u], v[4u * j + 2u], v[4u * j + 3u]) * scale)), vec4<i32>(-127), vec4<i32>(127));
    sum += (q.x + q.y) + (q.z + q.w);
    xq[b * 8u + j] = pack4xI8(q);
  }
  xd[b] = vec2<f32>(amax / 127.0, f32(sum));
}
