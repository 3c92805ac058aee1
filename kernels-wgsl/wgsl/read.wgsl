// Plain read kernel (bandwidth reference for the benchmark): every thread streams vec4<u32> words
// with a grid-wide stride and folds them; the store is conditional on an impossible-in-practice
// value so the reads cannot be optimised away.

override WG: u32 = 256u;

struct Params { n: u32, stride: u32 } // n vec4 words; stride = threads in the grid

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read_write> sink: array<u32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  var acc = vec4<u32>(0u);
  for (var i = gid.x; i < p.n; i += p.stride) { acc ^= src[i]; }
  let v = acc.x ^ acc.y ^ acc.z ^ acc.w;
  if (v == 0x9e3779b9u) { sink[0] = gid.x; }
}
