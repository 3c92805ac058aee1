// Quantized embedding gather: out[t, :] = dequantized row ids[t] of the table (one row shard;
// ids outside [rowBase, rowBase + rows) belong to another shard's dispatch). Same weight layout
// as gemv: one thread per vec4<u32> chunk of CH values.

override KIND: u32 = 0u;          // 0 int4, 1 int8, 2 f16, 3 f32
override GROUP: u32 = 32u;
override SCALE_F16: bool = true;
override HAS_ZEROS: bool = false;

struct Params { D: u32, rows: u32, rowBase: u32, chunksPerRow: u32, groupsPerRow: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> w: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read> scales: array<u32>;
@group(0) @binding(3) var<storage, read> zeros: array<u32>;
@group(0) @binding(4) var<storage, read> ids: array<u32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;

fn scaleAt(i: u32) -> f32 {
  if (SCALE_F16) { return unpack2x16float(scales[i >> 1u])[i & 1u]; }
  return bitcast<f32>(scales[i]);
}

fn zeroAt(i: u32) -> f32 {
  if (HAS_ZEROS) { return f32((zeros[i >> 3u] >> ((i & 7u) * 4u)) & 15u); }
  return 8.0;
}

fn put(base: u32, k: u32, v: f32) {
  if (k < p.D) { out[base + k] = v; }
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  let tok = gid.y;
  let id = ids[tok];
  if (c >= p.chunksPerRow || id < p.rowBase || id >= p.rowBase + p.rows) { return; }
  let row = id - p.rowBase;
  let wv = w[row * p.chunksPerRow + c];
  let base = tok * p.D;
  switch KIND {
    case 0u: {
      let k0 = c * 32u;
      let gi = row * p.groupsPerRow + k0 / GROUP;
      let s = scaleAt(gi);
      let z = zeroAt(gi);
      for (var j = 0u; j < 4u; j++) {
        let lo = (vec4<f32>((vec4<u32>(wv[j]) >> vec4<u32>(0u, 8u, 16u, 24u)) & vec4<u32>(15u)) - z) * s;
        let hi = (vec4<f32>((vec4<u32>(wv[j]) >> vec4<u32>(4u, 12u, 20u, 28u)) & vec4<u32>(15u)) - z) * s;
        for (var e = 0u; e < 4u; e++) {
          put(base, k0 + 8u * j + e, lo[e]);
          put(base, k0 + 8u * j + 4u + e, hi[e]);
        }
      }
    }
    case 1u: {
      let k0 = c * 16u;
      let s = scaleAt(row);
      for (var j = 0u; j < 4u; j++) {
        let q = vec4<f32>(bitcast<vec4<i32>>(vec4<u32>(wv[j]) << vec4<u32>(24u, 16u, 8u, 0u)) >> vec4<u32>(24u)) * s;
        for (var e = 0u; e < 4u; e++) { put(base, k0 + 4u * j + e, q[e]); }
      }
    }
    case 2u: {
      let k0 = c * 8u;
      for (var j = 0u; j < 4u; j++) {
        let h = unpack2x16float(wv[j]);
        put(base, k0 + 2u * j, h.x);
        put(base, k0 + 2u * j + 1u, h.y);
      }
    }
    default: {
      let k0 = c * 4u;
      let f = bitcast<vec4<f32>>(wv);
      for (var e = 0u; e < 4u; e++) { put(base, k0 + e, f[e]); }
    }
  }
}
