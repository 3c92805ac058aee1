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

// #include q8-block.wgsl

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
