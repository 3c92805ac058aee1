// Piece "gemm" (not a kernel on its own): spliced into gemm.wgsl gemm_f16.wgsl by an include line naming gemm.wgsl
// (kernels-wgsl/compose.ts). Edit it here once; every variant that includes it changes with it.

override KIND: u32 = 0u;          // 0 int4, 1 int8, 2 f16, 3 f32
override GROUP: u32 = 32u;
override SCALE_F16: bool = true;
override HAS_ZEROS: bool = false;

const BM: u32 = 64u;
const BN: u32 = 64u;
const BK: u32 = 32u;

struct Params {
  M: u32,
  K: u32,
  rows: u32,
  rowBase: u32,
  chunksPerRow: u32,
  groupsPerRow: u32,
  ldy: u32,           // row stride of Y (the full N)
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> w: array<u32>;
@group(0) @binding(2) var<storage, read> scales: array<u32>;
@group(0) @binding(3) var<storage, read> zeros: array<u32>;
@group(0) @binding(4) var<storage, read> x: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

var<workgroup> xs: array<f32, BM * BK>;
var<workgroup> ws: array<WT, BN * BK>;

fn scaleAt(i: u32) -> f32 {
  if (SCALE_F16) { return unpack2x16float(scales[i >> 1u])[i & 1u]; }
  return bitcast<f32>(scales[i]);
}

fn zeroAt(i: u32) -> f32 {
  if (HAS_ZEROS) { return f32((zeros[i >> 3u] >> ((i & 7u) * 4u)) & 15u); }
  return 8.0;
}

// W[n, k] of this shard, dequantized (0 past K).
fn weight(n: u32, k: u32) -> f32 {
  if (n >= p.rows || k >= p.K) { return 0.0; }
  let row = n * p.chunksPerRow * 4u;
  switch KIND {
    case 0u: {
      let word = w[row + k / 8u];
      let kk = k & 7u;
      // byte kk low nibble for kk < 4, byte kk-4 high nibble otherwise
      let q = (word >> ((kk & 3u) * 8u + (kk >> 2u) * 4u)) & 15u;
      let gi = n * p.groupsPerRow + k / GROUP;
      return (f32(q) - zeroAt(gi)) * scaleAt(gi);
    }
    case 1u: {
      let word = w[row + k / 4u];
      let q = bitcast<i32>(word << (24u - 8u * (k & 3u))) >> 24u;
      return f32(q) * scaleAt(n);
    }
    case 2u: { return unpack2x16float(w[row + k / 2u])[k & 1u]; }
    default: { return bitcast<f32>(w[row + k]); }
  }
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) t: u32) {
  let n0 = wid.x * BN;
  let m0 = wid.y * BM;
  var acc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < p.K; k0 += BK) {
    for (var e = t; e < BM * BK; e += 256u) {
      let r = e / BK;
      let c = e % BK;
      let m = m0 + r;
      let k = k0 + c;
      xs[e] = select(0.0, x[min(m, p.M - 1u) * p.K + min(k, p.K - 1u)], m < p.M && k < p.K);
      ws[e] = WT(weight(n0 + r, k));
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      let b = vec4<f32>(vec4<WT>(ws[(lid.x * 4u) * BK + kk], ws[(lid.x * 4u + 1u) * BK + kk],
                                 ws[(lid.x * 4u + 2u) * BK + kk], ws[(lid.x * 4u + 3u) * BK + kk]));
      for (var i = 0u; i < 4u; i++) { acc[i] += xs[(lid.y * 4u + i) * BK + kk] * b; }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let m = m0 + lid.y * 4u + i;
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + lid.x * 4u + j;
      if (m < p.M && n < p.rows) { y[m * p.ldy + p.rowBase + n] = acc[i][j]; }
    }
  }
}
