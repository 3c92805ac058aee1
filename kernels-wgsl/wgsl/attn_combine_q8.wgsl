// attn_combine.wgsl writing gemv_q8's int8 input directly (the o_proj's x): the same merge of the
// split partials per query head, then the head's D values (D a multiple of 32, so blocks never
// straddle heads) quantized per block of 32 exactly as quant_x.wgsl does.

struct Params { Hq: u32, D: u32, splits: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> partO: array<f32>;
@group(0) @binding(2) var<storage, read> partML: array<f32>;
@group(0) @binding(3) var<storage, read_write> xq: array<u32>;         // [Hq * D / 32 blocks] x 8
@group(0) @binding(4) var<storage, read_write> xd: array<vec2<f32>>;   // (d, sum q) per block

const MAX_D: u32 = 256u;
var<workgroup> vals: array<f32, MAX_D>;

// ---- shared q8-block: identical in quant_x.wgsl, rmsnorm_q8.wgsl, swiglu_q8.wgsl and
// attn_combine_q8.wgsl (WGSL has no include; compile.test.ts checks the copies) ----
// Block b of 32 values as gemv_q8's int8 input: d = max|v| / 127, q = round(v * 127 / max|v|)
// (ties to even) clamped to +-127, packed 4 per word in k order; xd[b] = (d, sum of q), the sum an
// integer (|sum| <= 4064, exact in f32) that lets the GEMV subtract an int4 zero point per block.
fn storeQ8Block(b: u32, v: array<f32, 32>) {
  var amax = 0.0;
  for (var i = 0u; i < 32u; i++) { amax = max(amax, abs(v[i])); }
  let scale = select(0.0, 127.0 / amax, amax > 0.0);
  var sum = 0i;
  for (var j = 0u; j < 8u; j++) {
    let q = clamp(vec4<i32>(round(vec4<f32>(v[4u * j], v[4u * j + 1u], v[4u * j + 2u], v[4u * j + 3u]) * scale)), vec4<i32>(-127), vec4<i32>(127));
    sum += (q.x + q.y) + (q.z + q.w);
    xq[b * 8u + j] = pack4xI8(q);
  }
  xd[b] = vec2<f32>(amax / 127.0, f32(sum));
}
// ---- end shared q8-block ----

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let h = wid.x;
  var M = -3.4e38;
  for (var s = 0u; s < p.splits; s++) { M = max(M, partML[(s * p.Hq + h) * 2u]); }
  var L = 0.0;
  for (var s = 0u; s < p.splits; s++) { L += partML[(s * p.Hq + h) * 2u + 1u] * exp(partML[(s * p.Hq + h) * 2u] - M); }
  for (var d = t; d < p.D; d += 64u) {
    var acc = 0.0;
    for (var s = 0u; s < p.splits; s++) {
      acc += partO[(s * p.Hq + h) * p.D + d] * exp(partML[(s * p.Hq + h) * 2u] - M);
    }
    vals[d] = acc / L;
  }
  workgroupBarrier();
  // one thread per block of 32 of this head
  let blocksPerHead = p.D / 32u;
  if (t < blocksPerHead) {
    var v: array<f32, 32>;
    for (var i = 0u; i < 32u; i++) { v[i] = vals[t * 32u + i]; }
    storeQ8Block(h * blocksPerHead + t, v);
  }
}
