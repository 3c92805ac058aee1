// SwiGLU silu(gate) * up over n values written straight as gemv_q8's int8 input (the down
// projection's x): swiglu.wgsl's expression, quantized per block of 32 exactly as quant_x.wgsl
// does (d = max|v| / 127, round half to even, zero-padded past n, block sums). One thread per block.

override WG: u32 = 64u;

// gate and up start at elements gOff and uOff of their buffers (a fused gate|up row: 0 and n)
struct Params { n: u32, blocks: u32, gridX: u32, gOff: u32, uOff: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> gate: array<f32>;
@group(0) @binding(2) var<storage, read> up: array<f32>;
@group(0) @binding(3) var<storage, read_write> xq: array<u32>;
@group(0) @binding(4) var<storage, read_write> xd: array<vec2<f32>>;

fn value(i: u32) -> f32 {
  if (i < p.n) {
    let g = gate[p.gOff + i];
    return g / (1.0 + exp(-g)) * up[p.uOff + i];
  }
  return 0.0;
}

// #include q8-block.wgsl

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let b = (wid.x + wid.y * p.gridX) * WG + t;
  if (b >= p.blocks) { return; }
  var v: array<f32, 32>;
  for (var i = 0u; i < 32u; i++) { v[i] = value(b * 32u + i); }
  storeQ8Block(b, v);
}
