// SwiGLU silu(gate) * up over n values written straight as gemv_q8's int8 input (the down
// projection's x): swiglu.wgsl's expression, quantized per block of 32 exactly as quant_x.wgsl
// does (d = max|v| / 127, round half to even, zero-padded past n, block sums). One thread per block.

override WG: u32 = 64u;

struct Params { n: u32, blocks: u32, gridX: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> gate: array<f32>;
@group(0) @binding(2) var<storage, read> up: array<f32>;
@group(0) @binding(3) var<storage, read_write> xq: array<u32>;
@group(0) @binding(4) var<storage, read_write> xd: array<vec2<f32>>;

fn value(i: u32) -> f32 {
  if (i < p.n) {
    let g = gate[i];
    return g / (1.0 + exp(-g)) * up[i];
  }
  return 0.0;
}

// ---- shared q8-block: identical in quant_x.wgsl, rmsnorm_q8.wgsl, swiglu_q8.wgsl and
// attn_combine_q8.wgsl (WGSL has no include; compile.test.ts checks the copies) ----
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
// ---- end shared q8-block ----

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let b = (wid.x + wid.y * p.gridX) * WG + t;
  if (b >= p.blocks) { return; }
  var v: array<f32, 32>;
  for (var i = 0u; i < 32u; i++) { v[i] = value(b * 32u + i); }
  storeQ8Block(b, v);
}
