// Piece "gemv-f16" (not a kernel on its own): spliced into gemv_f16.wgsl gemv_sg_f16.wgsl by an include line naming gemv-f16.wgsl
// (kernels-wgsl/compose.ts). Edit it here once; every variant that includes it changes with it.

override KIND: u32 = 0u;
override GROUP: u32 = 32u;        // int4 group length along K (a multiple of 32)
override SCALE_F16: bool = true;  // scales are packed f16 pairs (else f32)
override HAS_ZEROS: bool = false; // asymmetric int4: per-group 4-bit zeros (else zero = 8)
override WG: u32 = 64u;           // threads per workgroup, a power of two
override ROWS: u32 = 4u;          // rows per workgroup, at most MAX_ROWS
override RED: u32 = WG * ROWS;
// STAGE_X: the x values of WG consecutive chunks are staged through workgroup memory by coalesced
// loads, one padding vec4 after every 8 so that each thread's vec4 reads are bank-conflict free
// (thread t reads slots 9t..9t+7 for int4). Without it each thread reads its own 32 floats of x
// straight from memory, strided across threads. XS = WG * 9 when staging (int4 worst case), else 1.
override STAGE_X: bool = true;
override XS: u32 = WG * 9u;

const MAX_ROWS: u32 = 16u;

// #include gemv-io.wgsl

var<workgroup> red: array<f32, RED>;
var<workgroup> xsh: array<vec4<f32>, XS>;

// #include weight-access.wgsl

fn scaleAtH(i: u32) -> f16 {
  if (SCALE_F16) { return bitcast<vec2<f16>>(scales[i >> 1u])[i & 1u]; }
  return f16(bitcast<f32>(scales[i]));
}

// Dot of one weight chunk (scale applied in f16) with the x values xs.
fn chunkDot(wv: vec4<u32>, xs: array<vec4<f32>, 8>, zero: f16, scale: f16) -> f32 {
  var s = 0.0;
  if (KIND == 0u) {
    for (var j = 0u; j < 4u; j++) {
      let lo = (vec4<f16>((vec4<u32>(wv[j]) >> vec4<u32>(0u, 8u, 16u, 24u)) & vec4<u32>(15u)) - zero) * scale;
      let hi = (vec4<f16>((vec4<u32>(wv[j]) >> vec4<u32>(4u, 12u, 20u, 28u)) & vec4<u32>(15u)) - zero) * scale;
      s += dot(vec4<f32>(lo), xs[2u * j]) + dot(vec4<f32>(hi), xs[2u * j + 1u]);
    }
  } else if (KIND == 1u) {
    for (var j = 0u; j < 4u; j++) {
      let q = vec4<f16>(bitcast<vec4<i32>>(vec4<u32>(wv[j]) << vec4<u32>(24u, 16u, 8u, 0u)) >> vec4<u32>(24u));
      s += dot(vec4<f32>(q * scale), xs[j]);
    }
  } else if (KIND == 2u) {
    s = dot(vec4<f32>(bitcast<vec4<f16>>(wv.xy)), xs[0]) + dot(vec4<f32>(bitcast<vec4<f16>>(wv.zw)), xs[1]);
  } else {
    s = dot(bitcast<vec4<f32>>(wv), xs[0]);
  }
  return s;
}

// This thread's partial dot products for rows r0 .. r0 + ROWS - 1 (thread t of the workgroup),
// before the reduction. Called once from main, in uniform control flow (it has barriers).
fn rowSums(r0: u32, t: u32) -> array<f32, MAX_ROWS> {
  let CH = chunkValues();
  var acc: array<f32, MAX_ROWS>;
  let V = CH / 4u; // vec4 of x per chunk
  if (STAGE_X) {
    for (var tile = 0u; tile < p.chunksPerRow; tile += WG) {
      let kt = tile * CH;
      for (var s = t; s < WG * V; s += WG) {
        let k = kt + 4u * s;
        xsh[s + s / 8u] = x4(k, k + 4u <= p.K);
      }
      workgroupBarrier();
      let c = tile + t;
      if (c < p.chunksPerRow) {
        let k0 = c * CH;
        var xs: array<vec4<f32>, 8>;
        for (var j = 0u; j < V; j++) { let s = t * V + j; xs[j] = xsh[s + s / 8u]; }
        for (var r = 0u; r < ROWS; r++) {
          let row = min(r0 + r, p.rows - 1u); // clamped: duplicate work on the ragged last block, never stored
          var scale = 1.0h;
          var zero = 8.0h;
          if (KIND == 0u) {
            let gi = row * p.groupsPerRow + k0 / GROUP;
            scale = scaleAtH(gi);
            zero = f16(zeroAt(gi));
          } else if (KIND == 1u) {
            scale = scaleAtH(row);
          }
          acc[r] += chunkDot(w[row * p.chunksPerRow + c], xs, zero, scale);
        }
      }
      workgroupBarrier();
    }
  } else {
    for (var c = t; c < p.chunksPerRow; c += WG) {
      let k0 = c * CH;
      let full = k0 + CH <= p.K;
      var xs: array<vec4<f32>, 8>;
      for (var j = 0u; j < V; j++) { xs[j] = x4(k0 + 4u * j, full); }
      for (var r = 0u; r < ROWS; r++) {
        let row = min(r0 + r, p.rows - 1u); // clamped: duplicate work on the ragged last block, never stored
        var scale = 1.0h;
        var zero = 8.0h;
        if (KIND == 0u) {
          let gi = row * p.groupsPerRow + k0 / GROUP;
          scale = scaleAtH(gi);
          zero = f16(zeroAt(gi));
        } else if (KIND == 1u) {
          scale = scaleAtH(row);
        }
        acc[r] += chunkDot(w[row * p.chunksPerRow + c], xs, zero, scale);
      }
    }
  }
  return acc;
}
