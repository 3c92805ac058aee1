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

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let b = (wid.x + wid.y * p.gridX) * WG + t;
  if (b >= p.blocks) { return; }
  let k0 = b * 32u;
  var v: array<f32, 32>;
  var amax = 0.0;
  for (var i = 0u; i < 32u; i++) {
    v[i] = value(k0 + i);
    amax = max(amax, abs(v[i]));
  }
  let d = amax / 127.0;
  let scale = select(0.0, 127.0 / amax, amax > 0.0);
  var sum = 0i;
  for (var j = 0u; j < 8u; j++) {
    let q = clamp(vec4<i32>(round(vec4<f32>(v[4u * j], v[4u * j + 1u], v[4u * j + 2u], v[4u * j + 3u]) * scale)), vec4<i32>(-127), vec4<i32>(127));
    sum += (q.x + q.y) + (q.z + q.w);
    xq[b * 8u + j] = pack4xI8(q);
  }
  xd[b] = vec2<f32>(d, f32(sum));
}
