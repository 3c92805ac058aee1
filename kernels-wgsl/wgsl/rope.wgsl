// Rotary embedding (HF rotate_half pairing: i with i + D/2) on x [T, H, D] at positions pos[T].
// invFreq [D/2] comes from the host, so Llama 3's frequency scaling is the host's choice.

struct Params { tokens: u32, heads: u32, half: u32, gridX: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> pos: array<u32>;
@group(0) @binding(3) var<storage, read> invFreq: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let idx = (wid.x + wid.y * p.gridX) * 64u + t;
  if (idx >= p.tokens * p.heads * p.half) { return; }
  let i = idx % p.half;
  let th = idx / p.half;          // token * heads + head
  let tok = th / p.heads;
  let base = th * 2u * p.half;
  // positions are exact integers; the angle is formed in f32 like the f32 reference
  let a = f32(pos[tok]) * invFreq[i];
  let c = cos(a);
  let s = sin(a);
  let x0 = x[base + i];
  let x1 = x[base + i + p.half];
  y[base + i] = x0 * c - x1 * s;
  y[base + i + p.half] = x1 * c + x0 * s;
}
