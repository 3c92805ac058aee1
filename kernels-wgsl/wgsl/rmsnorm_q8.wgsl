// RMSNorm of one row x [n] written straight as gemv_q8's int8 input: the values of rmsnorm.wgsl
// (x * inverseSqrt(mean(x^2) + eps) * weight, same reduction and expressions) quantized per block
// of 32 exactly as quant_x.wgsl does (d = max|v| / 127, round half to even, zero-padded past n,
// block sums). In a decoder the normed vector is read only by the next matrices, so this saves
// the separate quant_x dispatch. One workgroup.

struct Params { n: u32, eps: f32, blocks: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read_write> xq: array<u32>;
@group(0) @binding(4) var<storage, read_write> xd: array<vec2<f32>>;

const WG: u32 = 256u;
var<workgroup> red: array<f32, WG>;

// #include q8-block.wgsl

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) t: u32) {
  var ss = 0.0;
  for (var i = t; i < p.n; i += WG) { let v = x[i]; ss += v * v; }
  red[t] = ss;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (t < s) { red[t] += red[t + s]; }
    workgroupBarrier();
  }
  let inv = inverseSqrt(red[0] / f32(p.n) + p.eps);
  // one thread per block of 32
  for (var b = t; b < p.blocks; b += WG) {
    var v: array<f32, 32>;
    for (var i = 0u; i < 32u; i++) { v[i] = normed(b * 32u + i, inv); }
    storeQ8Block(b, v);
  }
}

fn normed(k: u32, inv: f32) -> f32 {
  if (k < p.n) { return x[k] * inv * weight[k]; }
  return 0.0;
}
