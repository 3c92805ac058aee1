// Piece "gemv" (not a kernel on its own): spliced into gemv.wgsl gemv_sg.wgsl by an include line naming gemv.wgsl
// (kernels-wgsl/compose.ts). Edit it here once; every variant that includes it changes with it.

override KIND: u32 = 0u;
override GROUP: u32 = 32u;        // int4 group length along K (a multiple of 32)
override SCALE_F16: bool = true;  // scales are packed f16 pairs (else f32)
override HAS_ZEROS: bool = false; // asymmetric int4: per-group 4-bit zeros (else zero = 8)
override WG: u32 = 64u;           // threads per workgroup, a power of two
override ROWS: u32 = 4u;          // rows per workgroup, at most MAX_ROWS (16)
override RED: u32 = WG * ROWS;
// STAGE_X: the x values of WG consecutive chunks are staged through workgroup memory by coalesced
// loads, one padding vec4 after every 8 so that each thread's vec4 reads are bank-conflict free
// (thread t reads slots 9t..9t+7 for int4). Without it each thread reads its own 32 floats of x
// straight from memory, strided across threads. XS = WG * 9 when staging (int4 worst case), else 1.
override STAGE_X: bool = true;
// MAGIC: integers become floats by OR-ing them into the mantissa of 2^23 and subtracting
// (2^23 + offset) — exact, and a logic op + add instead of an int->float conversion per weight.
override MAGIC: bool = true;
override XS: u32 = WG * 9u;

const MAX_ROWS: u32 = 16u;

// #include gemv-io.wgsl

var<workgroup> red: array<f32, RED>;
var<workgroup> xsh: array<vec4<f32>, XS>;

// #include weights.wgsl

// x of chunk c read directly from memory (the non-staged path), pre-scaled.
fn x8Direct(c: u32) -> X8 {
  let k0 = c * 32u;
  let full = k0 + 32u <= p.K;
  return X8(x4(k0, full) * LO_X, x4(k0 + 4u, full) * HI_X, x4(k0 + 8u, full) * LO_X, x4(k0 + 12u, full) * HI_X,
            x4(k0 + 16u, full) * LO_X, x4(k0 + 20u, full) * HI_X, x4(k0 + 24u, full) * LO_X, x4(k0 + 28u, full) * HI_X);
}

// x of the thread's chunk from the staged tile (slot s of vec4 i is s + s / 8 = 9 t + i).
fn x8Staged(t: u32) -> X8 {
  let b = 9u * t;
  return X8(xsh[b], xsh[b + 1u], xsh[b + 2u], xsh[b + 3u], xsh[b + 4u], xsh[b + 5u], xsh[b + 6u], xsh[b + 7u]);
}

// This thread's partial dot products for rows r0 .. r0 + ROWS - 1 (thread t of the workgroup),
// before the reduction. Called once from main, in uniform control flow (it has barriers).
fn rowSums(r0: u32, t: u32) -> array<f32, MAX_ROWS> {
  let CH = chunkValues();
  var acc: array<f32, MAX_ROWS>;
  let V = CH / 4u; // vec4 of x per chunk
  if (KIND == 0u) {
    // int4: rows unrolled by hand up to MAX_ROWS with constant indices (guards on the override
    // ROWS fold away), so accumulators, weights, scales and zeros stay in registers.
    var ld: array<Row4, MAX_ROWS>;
    if (STAGE_X) {
      for (var tile = 0u; tile < p.chunksPerRow; tile += WG) {
        let kt = tile * 32u;
        let c = tile + t;
        let has = c < p.chunksPerRow;
        // this tile's weights, scales and zeros are loaded BEFORE x is staged (latency overlap)
        if (has) {
          if (ROWS > 0u) { ld[0] = loadRow4(min(r0 + 0u, p.rows - 1u), c); }
          if (ROWS > 1u) { ld[1] = loadRow4(min(r0 + 1u, p.rows - 1u), c); }
          if (ROWS > 2u) { ld[2] = loadRow4(min(r0 + 2u, p.rows - 1u), c); }
          if (ROWS > 3u) { ld[3] = loadRow4(min(r0 + 3u, p.rows - 1u), c); }
          if (ROWS > 4u) { ld[4] = loadRow4(min(r0 + 4u, p.rows - 1u), c); }
          if (ROWS > 5u) { ld[5] = loadRow4(min(r0 + 5u, p.rows - 1u), c); }
          if (ROWS > 6u) { ld[6] = loadRow4(min(r0 + 6u, p.rows - 1u), c); }
          if (ROWS > 7u) { ld[7] = loadRow4(min(r0 + 7u, p.rows - 1u), c); }
          if (ROWS > 8u) { ld[8] = loadRow4(min(r0 + 8u, p.rows - 1u), c); }
          if (ROWS > 9u) { ld[9] = loadRow4(min(r0 + 9u, p.rows - 1u), c); }
          if (ROWS > 10u) { ld[10] = loadRow4(min(r0 + 10u, p.rows - 1u), c); }
          if (ROWS > 11u) { ld[11] = loadRow4(min(r0 + 11u, p.rows - 1u), c); }
          if (ROWS > 12u) { ld[12] = loadRow4(min(r0 + 12u, p.rows - 1u), c); }
          if (ROWS > 13u) { ld[13] = loadRow4(min(r0 + 13u, p.rows - 1u), c); }
          if (ROWS > 14u) { ld[14] = loadRow4(min(r0 + 14u, p.rows - 1u), c); }
          if (ROWS > 15u) { ld[15] = loadRow4(min(r0 + 15u, p.rows - 1u), c); }
        }
        for (var s = t; s < WG * 8u; s += WG) {
          let k = kt + 4u * s;
          xsh[s + s / 8u] = x4(k, k + 4u <= p.K) * xFactor(s);
        }
        workgroupBarrier();
        if (has) {
          let xv = x8Staged(t);
          if (ROWS > 0u) { acc[0] += rowDot4(ld[0], xv); }
          if (ROWS > 1u) { acc[1] += rowDot4(ld[1], xv); }
          if (ROWS > 2u) { acc[2] += rowDot4(ld[2], xv); }
          if (ROWS > 3u) { acc[3] += rowDot4(ld[3], xv); }
          if (ROWS > 4u) { acc[4] += rowDot4(ld[4], xv); }
          if (ROWS > 5u) { acc[5] += rowDot4(ld[5], xv); }
          if (ROWS > 6u) { acc[6] += rowDot4(ld[6], xv); }
          if (ROWS > 7u) { acc[7] += rowDot4(ld[7], xv); }
          if (ROWS > 8u) { acc[8] += rowDot4(ld[8], xv); }
          if (ROWS > 9u) { acc[9] += rowDot4(ld[9], xv); }
          if (ROWS > 10u) { acc[10] += rowDot4(ld[10], xv); }
          if (ROWS > 11u) { acc[11] += rowDot4(ld[11], xv); }
          if (ROWS > 12u) { acc[12] += rowDot4(ld[12], xv); }
          if (ROWS > 13u) { acc[13] += rowDot4(ld[13], xv); }
          if (ROWS > 14u) { acc[14] += rowDot4(ld[14], xv); }
          if (ROWS > 15u) { acc[15] += rowDot4(ld[15], xv); }
        }
        workgroupBarrier();
      }
    } else {
      for (var c = t; c < p.chunksPerRow; c += WG) {
        if (ROWS > 0u) { ld[0] = loadRow4(min(r0 + 0u, p.rows - 1u), c); }
        if (ROWS > 1u) { ld[1] = loadRow4(min(r0 + 1u, p.rows - 1u), c); }
        if (ROWS > 2u) { ld[2] = loadRow4(min(r0 + 2u, p.rows - 1u), c); }
        if (ROWS > 3u) { ld[3] = loadRow4(min(r0 + 3u, p.rows - 1u), c); }
        if (ROWS > 4u) { ld[4] = loadRow4(min(r0 + 4u, p.rows - 1u), c); }
        if (ROWS > 5u) { ld[5] = loadRow4(min(r0 + 5u, p.rows - 1u), c); }
        if (ROWS > 6u) { ld[6] = loadRow4(min(r0 + 6u, p.rows - 1u), c); }
        if (ROWS > 7u) { ld[7] = loadRow4(min(r0 + 7u, p.rows - 1u), c); }
        if (ROWS > 8u) { ld[8] = loadRow4(min(r0 + 8u, p.rows - 1u), c); }
        if (ROWS > 9u) { ld[9] = loadRow4(min(r0 + 9u, p.rows - 1u), c); }
        if (ROWS > 10u) { ld[10] = loadRow4(min(r0 + 10u, p.rows - 1u), c); }
        if (ROWS > 11u) { ld[11] = loadRow4(min(r0 + 11u, p.rows - 1u), c); }
        if (ROWS > 12u) { ld[12] = loadRow4(min(r0 + 12u, p.rows - 1u), c); }
        if (ROWS > 13u) { ld[13] = loadRow4(min(r0 + 13u, p.rows - 1u), c); }
        if (ROWS > 14u) { ld[14] = loadRow4(min(r0 + 14u, p.rows - 1u), c); }
        if (ROWS > 15u) { ld[15] = loadRow4(min(r0 + 15u, p.rows - 1u), c); }
        let xv = x8Direct(c);
        if (ROWS > 0u) { acc[0] += rowDot4(ld[0], xv); }
        if (ROWS > 1u) { acc[1] += rowDot4(ld[1], xv); }
        if (ROWS > 2u) { acc[2] += rowDot4(ld[2], xv); }
        if (ROWS > 3u) { acc[3] += rowDot4(ld[3], xv); }
        if (ROWS > 4u) { acc[4] += rowDot4(ld[4], xv); }
        if (ROWS > 5u) { acc[5] += rowDot4(ld[5], xv); }
        if (ROWS > 6u) { acc[6] += rowDot4(ld[6], xv); }
        if (ROWS > 7u) { acc[7] += rowDot4(ld[7], xv); }
        if (ROWS > 8u) { acc[8] += rowDot4(ld[8], xv); }
        if (ROWS > 9u) { acc[9] += rowDot4(ld[9], xv); }
        if (ROWS > 10u) { acc[10] += rowDot4(ld[10], xv); }
        if (ROWS > 11u) { acc[11] += rowDot4(ld[11], xv); }
        if (ROWS > 12u) { acc[12] += rowDot4(ld[12], xv); }
        if (ROWS > 13u) { acc[13] += rowDot4(ld[13], xv); }
        if (ROWS > 14u) { acc[14] += rowDot4(ld[14], xv); }
        if (ROWS > 15u) { acc[15] += rowDot4(ld[15], xv); }
      }
    }
  } else if (STAGE_X) {
    for (var tile = 0u; tile < p.chunksPerRow; tile += WG) {
      let kt = tile * CH;
      let c = tile + t;
      let has = c < p.chunksPerRow;
      let k0 = c * CH;
      // This tile's weights, scales and zeros are loaded BEFORE x is staged, so their memory
      // latency overlaps the x loads and the barrier instead of following them.
      var wv: array<vec4<u32>, MAX_ROWS>;
      var scl: array<f32, MAX_ROWS>;
      var zr: array<f32, MAX_ROWS>;
      if (has) {
        for (var r = 0u; r < ROWS; r++) {
          let row = min(r0 + r, p.rows - 1u); // clamped: duplicate work on the ragged last block, never stored
          wv[r] = w[row * p.chunksPerRow + c];
          scl[r] = 1.0;
          zr[r] = 8.0;
          if (KIND == 0u) {
            let gi = row * p.groupsPerRow + k0 / GROUP;
            scl[r] = scaleAt(gi);
            zr[r] = zeroAt(gi);
          } else if (KIND == 1u) {
            scl[r] = scaleAt(row);
          }
        }
      }
      for (var s = t; s < WG * V; s += WG) {
        let k = kt + 4u * s;
        xsh[s + s / 8u] = x4(k, k + 4u <= p.K);
      }
      workgroupBarrier();
      if (has) {
        var xs: array<vec4<f32>, 8>;
        for (var j = 0u; j < V; j++) { let s = t * V + j; xs[j] = xsh[s + s / 8u]; }
        for (var r = 0u; r < ROWS; r++) { acc[r] += scl[r] * chunkDot(wv[r], xs, zr[r]); }
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
        var scale = 1.0;
        var zero = 8.0;
        if (KIND == 0u) {
          let gi = row * p.groupsPerRow + k0 / GROUP;
          scale = scaleAt(gi);
          zero = zeroAt(gi);
        } else if (KIND == 1u) {
          scale = scaleAt(row);
        }
        acc[r] += scale * chunkDot(w[row * p.chunksPerRow + c], xs, zero);
      }
    }
  }
  return acc;
}
