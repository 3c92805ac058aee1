// Causal prefill attention: workgroup (query token t, query head h) attends to keys 0 .. past + t
// with an online softmax over blocks of 64 keys. q [T, Hq, D]; k, v [past + T, Hkv, D];
// out [T, Hq, D]. GQA: kv head h / (Hq / Hkv). D <= 256.

struct Params { T: u32, past: u32, Hq: u32, Hkv: u32, D: u32, scale: f32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

const WG: u32 = 64u;
const MAX_DPT: u32 = 4u;
const NEG: f32 = -3.4e38;

var<workgroup> qs: array<f32, 256>;
var<workgroup> sc: array<f32, WG>;
var<workgroup> pr: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let tok = wid.x;
  let h = wid.y;
  let kvh = h / (p.Hq / p.Hkv);
  let end = p.past + tok + 1u; // causal: keys up to and including this query's position
  let qb = (tok * p.Hq + h) * p.D;
  for (var d = t; d < p.D; d += WG) { qs[d] = q[qb + d]; }
  workgroupBarrier();
  var m = NEG;
  var l = 0.0;
  var o: array<f32, MAX_DPT>;
  for (var b = 0u; b < end; b += WG) {
    let key = b + t;
    var s = NEG;
    if (key < end) {
      let kb = (key * p.Hkv + kvh) * p.D;
      var dotv = 0.0;
      for (var d = 0u; d < p.D; d++) { dotv += qs[d] * k[kb + d]; }
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
        for (var j = 0u; j < min(WG, end - b); j++) { acc += pr[j] * v[((b + j) * p.Hkv + kvh) * p.D + d]; }
        o[i] = acc;
      }
    }
    m = mNew;
    workgroupBarrier();
  }
  for (var i = 0u; i < MAX_DPT; i++) {
    let d = t + i * WG;
    if (d < p.D) { out[qb + d] = o[i] / l; }
  }
}
