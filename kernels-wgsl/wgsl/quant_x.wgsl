// Quantizes an activation vector x[K] to int8 per block of 32 (the Q8 input of gemv_q8.wgsl):
// d = max|x| / 127, q = round(x * 127 / max|x|) (ties to even), clamped to [-127, 127].
// Outputs: xq = 8 words per block, each 4 int8 (byte b = k 4w + b, two's complement, pack4xI8);
// xd[block] = (d, sum of the block's q) — the sum is an integer (|sum| <= 4064, exact in f32) that
// lets the GEMV subtract an int4 zero point once per block instead of per weight.
// Past K the block is zero-padded (q = 0), so padded weights contribute nothing.
// One thread per block: x is at most a few tens of KiB, so this dispatch is short. Workgroup z is
// the row of x [rows, K] (blocks of row z at z * blocks), so prefill quantizes every token at once.

override WG: u32 = 64u;

struct Params {
  K: u32,
  blocks: u32,
  gridX: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> xq: array<u32>;
@group(0) @binding(3) var<storage, read_write> xd: array<vec2<f32>>;

var<private> xRow: u32;

fn xAt(k: u32) -> f32 {
  if (k < p.K) { return x[xRow + k]; }
  return 0.0;
}

// #include q8-block.wgsl

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let b = (wid.x + wid.y * p.gridX) * WG + t;
  if (b >= p.blocks) { return; }
  xRow = wid.z * p.K;
  var v: array<f32, 32>;
  for (var i = 0u; i < 32u; i++) { v[i] = xAt(b * 32u + i); }
  storeQ8Block(wid.z * p.blocks + b, v);
}
