// Row-wise softmax over x [rows, n] (max-subtracted). One workgroup per row.

struct Params { n: u32, gridX: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

const WG: u32 = 256u;
var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let base = (wid.x + wid.y * p.gridX) * p.n;
  var m = -3.4e38;
  for (var i = t; i < p.n; i += WG) { m = max(m, x[base + i]); }
  red[t] = m;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (t < s) { red[t] = max(red[t], red[t + s]); }
    workgroupBarrier();
  }
  let mx = red[0];
  workgroupBarrier(); // everyone has read red[0] before it is reused for the sum
  var sum = 0.0;
  for (var i = t; i < p.n; i += WG) { sum += exp(x[base + i] - mx); }
  red[t] = sum;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (t < s) { red[t] += red[t + s]; }
    workgroupBarrier();
  }
  let inv = 1.0 / red[0];
  for (var i = t; i < p.n; i += WG) { y[base + i] = exp(x[base + i] - mx) * inv; }
}
