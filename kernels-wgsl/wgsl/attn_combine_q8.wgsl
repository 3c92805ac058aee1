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
    let k0 = t * 32u;
    var amax = 0.0;
    for (var i = 0u; i < 32u; i++) { amax = max(amax, abs(vals[k0 + i])); }
    let d = amax / 127.0;
    let scale = select(0.0, 127.0 / amax, amax > 0.0);
    var sum = 0i;
    let b = h * blocksPerHead + t;
    for (var j = 0u; j < 8u; j++) {
      let k = k0 + 4u * j;
      let q = clamp(vec4<i32>(round(vec4<f32>(vals[k], vals[k + 1u], vals[k + 2u], vals[k + 3u]) * scale)), vec4<i32>(-127), vec4<i32>(127));
      sum += (q.x + q.y) + (q.z + q.w);
      xq[b * 8u + j] = pack4xI8(q);
    }
    xd[b] = vec2<f32>(d, f32(sum));
  }
}
