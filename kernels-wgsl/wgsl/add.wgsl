// Residual add: y = a + b, elementwise over n values (4 per thread). y may alias neither input.

struct Params { n: u32, gridX: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let base = ((wid.x + wid.y * p.gridX) * 256u + t) * 4u;
  for (var j = 0u; j < 4u; j++) {
    let i = base + j;
    if (i < p.n) { y[i] = a[i] + b[i]; }
  }
}
