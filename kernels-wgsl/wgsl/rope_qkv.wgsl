// RoPE over a fused QKV projection, writing straight into the KV cache: qkv [T, (Hq + 2 Hkv) D]
// (q heads, then k heads, then v heads, as the IR's fused qkv_proj lays them out) -> q [T, Hq, D]
// rotated, k rotated into kc rows row0 + t, v copied into vc rows row0 + t (caches [capacity, Hkv, D]).
// HF rotate_half pairing (i with i + D/2). The angles come from the host as cos/sin tables
// cs [T, D/2, 2], computed from the IR's inv_freq with transformers' float32 rounding: at positions
// past 100000 a GPU cos/sin of the raw angle is not accurate enough (WGSL bounds their error only
// on [-pi, pi]).

struct Params { T: u32, Hq: u32, Hkv: u32, half: u32, row0: u32, gridX: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(2) var<storage, read> cs: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read_write> q: array<f32>;
@group(0) @binding(4) var<storage, read_write> kc: array<f32>;
@group(0) @binding(5) var<storage, read_write> vc: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let heads = p.Hq + p.Hkv;
  let idx = (wid.x + wid.y * p.gridX) * 64u + t;
  if (idx >= p.T * heads * p.half) { return; }
  let i = idx % p.half;
  let th = idx / p.half;
  let tok = th / heads;
  let h = th % heads;
  let D = 2u * p.half;
  let row = tok * (heads + p.Hkv) * D;
  let a = cs[tok * p.half + i];
  let src = row + h * D;
  let x0 = qkv[src + i];
  let x1 = qkv[src + i + p.half];
  let y0 = x0 * a.x - x1 * a.y;
  let y1 = x1 * a.x + x0 * a.y;
  if (h < p.Hq) {
    let dst = (tok * p.Hq + h) * D;
    q[dst + i] = y0;
    q[dst + i + p.half] = y1;
  } else {
    let kh = h - p.Hq;
    let dst = ((p.row0 + tok) * p.Hkv + kh) * D;
    kc[dst + i] = y0;
    kc[dst + i + p.half] = y1;
    let vsrc = row + (heads + kh) * D;
    vc[dst + i] = qkv[vsrc + i];
    vc[dst + i + p.half] = qkv[vsrc + i + p.half];
  }
}
