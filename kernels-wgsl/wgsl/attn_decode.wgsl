// Decode attention, split-K flash decoding, phase 1: workgroup (split, query head) covers keys
// [split * splitLen, min(S, (split + 1) * splitLen)) of the KV cache with an online softmax and
// writes an unnormalized partial output plus its running max and sum. attn_combine.wgsl merges.
// q [Hq, D]; kc, vc [capacity, Hkv, D] (token-major cache; the first S tokens are valid). GQA:
// query head h reads kv head h / (Hq / Hkv). D <= 256.

struct Params { S: u32, Hq: u32, Hkv: u32, D: u32, splitLen: u32, scale: f32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> kc: array<f32>;
@group(0) @binding(3) var<storage, read> vc: array<f32>;
@group(0) @binding(4) var<storage, read_write> partO: array<f32>;  // [splits, Hq, D]
@group(0) @binding(5) var<storage, read_write> partML: array<f32>; // [splits, Hq, 2]: max, sum

const WG: u32 = 64u;     // keys per block, and threads
const MAX_DPT: u32 = 4u; // output dims per thread: D <= WG * MAX_DPT
const NEG: f32 = -3.4e38;

var<workgroup> qs: array<f32, 256>;
var<workgroup> sc: array<f32, WG>;
var<workgroup> pr: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let split = wid.x;
  let h = wid.y;
  let kvh = h / (p.Hq / p.Hkv);
  let start = split * p.splitLen;
  let end = min(p.S, start + p.splitLen);
  for (var d = t; d < p.D; d += WG) { qs[d] = q[h * p.D + d]; }
  workgroupBarrier();
  var m = NEG;
  var l = 0.0;
  var o: array<f32, MAX_DPT>;
  for (var b = start; b < end; b += WG) {
    let key = b + t;
    var s = NEG;
    if (key < end) {
      let kb = (key * p.Hkv + kvh) * p.D;
      var dotv = 0.0;
      for (var d = 0u; d < p.D; d++) { dotv += qs[d] * kc[kb + d]; }
      s = dotv * p.scale;
    }
    sc[t] = s;
    workgroupBarrier();
    var mb = NEG;
    for (var j = 0u; j < WG; j++) { mb = max(mb, sc[j]); }
    let mNew = max(m, mb);
    pr[t] = select(0.0, exp(s - mNew), key < end);
    workgroupBarrier();
    let alpha = exp(m - mNew);
    var sum = 0.0;
    for (var j = 0u; j < WG; j++) { sum += pr[j]; }
    l = l * alpha + sum;
    for (var i = 0u; i < MAX_DPT; i++) {
      let d = t + i * WG;
      if (d < p.D) {
        var acc = o[i] * alpha;
        for (var j = 0u; j < min(WG, end - b); j++) { acc += pr[j] * vc[((b + j) * p.Hkv + kvh) * p.D + d]; }
        o[i] = acc;
      }
    }
    m = mNew;
    workgroupBarrier(); // sc / pr are rewritten by the next block
  }
  let ob = (split * p.Hq + h) * p.D;
  for (var i = 0u; i < MAX_DPT; i++) {
    let d = t + i * WG;
    if (d < p.D) { partO[ob + d] = o[i]; }
  }
  if (t == 0u) {
    partML[(split * p.Hq + h) * 2u] = m;
    partML[(split * p.Hq + h) * 2u + 1u] = l;
  }
}
