// SwiGLU: y[r, i] = silu(gate[r, i]) * up[r, i] over rows x F values (4 per thread). gate and up
// are strided views (row stride and first column), so one fused gate|up projection [rows, 2F]
// bound as both inputs (gate columns 0..F, up columns F..2F) needs no unfusing copy.

struct Params { rows: u32, F: u32, gStride: u32, gOff: u32, uStride: u32, uOff: u32, gridX: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> gate: array<f32>;
@group(0) @binding(2) var<storage, read> up: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let base = ((wid.x + wid.y * p.gridX) * 256u + t) * 4u;
  for (var j = 0u; j < 4u; j++) {
    let i = base + j;
    if (i < p.rows * p.F) {
      let r = i / p.F;
      let c = i % p.F;
      let g = gate[r * p.gStride + p.gOff + c];
      y[i] = g / (1.0 + exp(-g)) * up[r * p.uStride + p.uOff + c];
    }
  }
}
