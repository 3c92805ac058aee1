// Piece "gemv-q8" (not a kernel on its own): spliced into gemv_q8.wgsl gemv_q8_sg.wgsl by an include line naming gemv-q8.wgsl
// (kernels-wgsl/compose.ts). Edit it here once; every variant that includes it changes with it.

override KIND: u32 = 0u;
override GROUP: u32 = 32u;
override SCALE_F16: bool = true;
override HAS_ZEROS: bool = false;
// chunks per loop trip per row: 2 issues the next chunk's loads before this one's math (more
// bytes in flight per thread when a row has few chunks per lane)
override UNROLL: u32 = 1u;

const MAX_ROWS: u32 = 8u;

struct Params {
  K: u32,
  rows: u32,          // rows in this shard
  rowBase: u32,       // first output row of this shard
  chunksPerRow: u32,
  groupsPerRow: u32,
  gridX: u32,         // workgroups along x (the grid is folded into 2-D past 65535)
  ldy: u32,           // row stride of y: workgroup z computes token z of x [T, K] into y [T, ldy]
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> w: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read> scales: array<u32>;
@group(0) @binding(3) var<storage, read> zeros: array<u32>;
@group(0) @binding(4) var<storage, read> xq: array<vec4<u32>>;   // 2 per block of 32
@group(0) @binding(5) var<storage, read> xd: array<vec2<f32>>;   // (d, sum q) per block
@group(0) @binding(6) var<storage, read_write> y: array<f32>;

// token z's int8 blocks (2 vec4 and one (d, sum) per block of 32) and its output row
var<private> xqBase: u32;
var<private> xdBase: u32;
var<private> yBase: u32;

fn setToken(z: u32) {
  let blocks = (p.K + 31u) / 32u;
  xqBase = z * 2u * blocks;
  xdBase = z * blocks;
  yBase = z * p.ldy;
}

fn scaleAt(i: u32) -> f32 {
  if (SCALE_F16) { return unpack2x16float(scales[i >> 1u])[i & 1u]; }
  return bitcast<f32>(scales[i]);
}

fn zeroAt(i: u32) -> f32 {
  if (HAS_ZEROS) { return f32((zeros[i >> 3u] >> ((i & 7u) * 4u)) & 15u); }
  return 8.0;
}

const NIBBLES: u32 = 0x0F0F0F0Fu;

// sum over one int4 chunk of q * xq. Word j of the chunk holds k = 8j..8j+3 in its low nibbles and
// k = 8j+4..8j+7 in its high nibbles; activation word i holds k = 4i..4i+3 (a: words 0-3, b: 4-7).
// The nibbles 0..15 are valid non-negative int8 lanes as they are.
fn dotInt4(wv: vec4<u32>, a: vec4<u32>, b: vec4<u32>) -> i32 {
  return (dot4I8Packed(wv.x & NIBBLES, a.x) + dot4I8Packed((wv.x >> 4u) & NIBBLES, a.y))
       + (dot4I8Packed(wv.y & NIBBLES, a.z) + dot4I8Packed((wv.y >> 4u) & NIBBLES, a.w))
       + (dot4I8Packed(wv.z & NIBBLES, b.x) + dot4I8Packed((wv.z >> 4u) & NIBBLES, b.y))
       + (dot4I8Packed(wv.w & NIBBLES, b.z) + dot4I8Packed((wv.w >> 4u) & NIBBLES, b.w));
}

fn dotInt8(wv: vec4<u32>, a: vec4<u32>) -> i32 {
  return (dot4I8Packed(wv.x, a.x) + dot4I8Packed(wv.y, a.y)) + (dot4I8Packed(wv.z, a.z) + dot4I8Packed(wv.w, a.w));
}

// One row's contribution of chunk c. int4: the chunk is block c of x (a, b its two halves).
// int8: the chunk is half c & 1 of block c >> 1 (a), the row scale is applied at the end.
fn rowChunk(row: u32, c: u32, a: vec4<u32>, b: vec4<u32>, ds: vec2<f32>) -> f32 {
  let wv = w[row * p.chunksPerRow + c];
  if (KIND == 0u) {
    let gi = row * p.groupsPerRow + (c * 32u) / GROUP;
    // exact: |dot| and |zero * sum| are integers below 2^16
    return (f32(dotInt4(wv, a, b)) - zeroAt(gi) * ds.y) * (scaleAt(gi) * ds.x);
  }
  return f32(dotInt8(wv, a)) * ds.x;
}

// Adds chunk c of rows r0 .. r0 + ROWS - 1 to acc (nothing when !valid: c is clamped, so the
// loads stay in bounds and the code stays branch-free). Rows past the shard repeat its last row,
// whose results are never stored.
fn accumulate(acc: ptr<function, array<f32, MAX_ROWS>>, r0: u32, c_: u32, valid: bool) {
  let c = min(c_, p.chunksPerRow - 1u);
  var a: vec4<u32>;
  var b = vec4<u32>(0u);
  var ds: vec2<f32>;
  if (KIND == 0u) {
    a = xq[xqBase + 2u * c];
    b = xq[xqBase + 2u * c + 1u];
    ds = xd[xdBase + c];
  } else {
    a = xq[xqBase + c];
    ds = xd[xdBase + (c >> 1u)];
  }
  let last = p.rows - 1u;
  // rows unrolled with constant indices (the ROWS guards fold away): acc stays in registers
  if (ROWS > 0u) { (*acc)[0] += select(0.0, rowChunk(min(r0, last), c, a, b, ds), valid); }
  if (ROWS > 1u) { (*acc)[1] += select(0.0, rowChunk(min(r0 + 1u, last), c, a, b, ds), valid); }
  if (ROWS > 2u) { (*acc)[2] += select(0.0, rowChunk(min(r0 + 2u, last), c, a, b, ds), valid); }
  if (ROWS > 3u) { (*acc)[3] += select(0.0, rowChunk(min(r0 + 3u, last), c, a, b, ds), valid); }
  if (ROWS > 4u) { (*acc)[4] += select(0.0, rowChunk(min(r0 + 4u, last), c, a, b, ds), valid); }
  if (ROWS > 5u) { (*acc)[5] += select(0.0, rowChunk(min(r0 + 5u, last), c, a, b, ds), valid); }
  if (ROWS > 6u) { (*acc)[6] += select(0.0, rowChunk(min(r0 + 6u, last), c, a, b, ds), valid); }
  if (ROWS > 7u) { (*acc)[7] += select(0.0, rowChunk(min(r0 + 7u, last), c, a, b, ds), valid); }
}
