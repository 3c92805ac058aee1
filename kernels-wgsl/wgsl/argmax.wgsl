// Argmax over x [n] (greedy sampling): out[0] = index of the largest value, ties to the lowest index.
// One workgroup: strided scan, then a tree reduction of (value, index) pairs.

struct Params { n: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;

const WG: u32 = 256u;
var<workgroup> bestV: array<f32, WG>;
var<workgroup> bestI: array<u32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) t: u32) {
  var v = -3.4e38;
  var idx = 0xffffffffu;
  for (var i = t; i < p.n; i += WG) {
    let xi = x[i];
    if (xi > v || idx == 0xffffffffu) { v = xi; idx = i; } // indices rise, so '>' keeps the first max
  }
  bestV[t] = v;
  bestI[t] = idx;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (t < s) {
      let ov = bestV[t + s];
      let oi = bestI[t + s];
      if (oi != 0xffffffffu && (ov > bestV[t] || (ov == bestV[t] && oi < bestI[t]) || bestI[t] == 0xffffffffu)) {
        bestV[t] = ov;
        bestI[t] = oi;
      }
    }
    workgroupBarrier();
  }
  if (t == 0u) { out[0] = bestI[0]; }
}
