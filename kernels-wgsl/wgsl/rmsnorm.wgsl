// RMSNorm over rows of x [rows, n]: y = x / sqrt(mean(x^2) + eps) * weight. One workgroup per row.

struct Params { n: u32, eps: f32, gridX: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

const WG: u32 = 256u;
var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let base = (wid.x + wid.y * p.gridX) * p.n;
  var ss = 0.0;
  for (var i = t; i < p.n; i += WG) { let v = x[base + i]; ss += v * v; }
  red[t] = ss;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (t < s) { red[t] += red[t + s]; }
    workgroupBarrier();
  }
  let inv = inverseSqrt(red[0] / f32(p.n) + p.eps);
  for (var i = t; i < p.n; i += WG) { y[base + i] = x[base + i] * inv * weight[i]; }
}
