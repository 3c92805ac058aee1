// Decode attention, phase 2: merge the split partials of each query head:
// M = max_s m_s, L = sum_s l_s e^(m_s - M), out[d] = sum_s o_s[d] e^(m_s - M) / L.
// Empty splits carry m = -3.4e38, l = 0, o = 0 and drop out.

struct Params { Hq: u32, D: u32, splits: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> partO: array<f32>;
@group(0) @binding(2) var<storage, read> partML: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>; // [Hq, D]

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let h = wid.x;
  var M = -3.4e38;
  for (var s = 0u; s < p.splits; s++) { M = max(M, partML[(s * p.Hq + h) * 2u]); }
  var L = 0.0;
  for (var s = 0u; s < p.splits; s++) { L += partML[(s * p.Hq + h) * 2u + 1u] * exp(partML[(s * p.Hq + h) * 2u] - M); }
  for (var d = t; d < p.D; d += 64u) {
    var acc = 0.0;
    for (var s = 0u; s < p.splits; s++) {
      acc += partO[(s * p.Hq + h) * p.D + d] * exp(partML[(s * p.Hq + h) * 2u] - M);
    }
    out[h * p.D + d] = acc / L;
  }
}
