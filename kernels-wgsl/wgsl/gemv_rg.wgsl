enable subgroups;

// GEMV for decode, f32 activations, "row group per subgroup" layout: y[rowBase + r] = sum_k W[r, k]
// x[k], f32 accumulation, the same numerics and helpers as gemv_sg.wgsl. x is staged ONCE per
// workgroup for the whole K (one barrier, none in the loop; XS vec4 slots, so K is bounded by the
// workgroup storage: 48 KiB holds K <= ~10900 for int4), pre-scaled for the in-place nibble masks
// and padded one vec4 per chunk so that 16-byte reads by consecutive lanes are bank-conflict free.
// Each subgroup then owns ROWS rows at a time: its lanes take chunks lane, lane + subgroup_size,
// ... (16-byte weight loads, coalesced across lanes) and subgroupAdd reduces each row. A workgroup
// owns GROUPS = WG / (the adapter's smallest subgroup size) row groups; subgroup s takes row groups
// s, s + num_subgroups, ..., so it is correct whatever subgroup size the compiler picks. Weight
// layout: kernels-wgsl/README.md; KIND 0 int4 (CH 32), 1 int8 (CH 16), 2 f16 (CH 8), 3 f32 (CH 4).

override KIND: u32 = 0u;
override GROUP: u32 = 32u;        // int4 group length along K (a multiple of 32)
override SCALE_F16: bool = true;  // scales are packed f16 pairs (else f32)
override HAS_ZEROS: bool = false; // asymmetric int4: per-group 4-bit zeros (else zero = 8)
override MAGIC: bool = true;      // integers to floats through the mantissa of 2^23 (exact)
override WG: u32 = 64u;           // threads per workgroup
override GROUPS: u32 = 2u;        // row groups per workgroup: WG / the smallest subgroup size
override ROWS: u32 = 4u;          // rows per row group, at most MAX_ROWS (8)
override UNROLL: u32 = 1u;        // chunks per loop trip per row (2: the next chunk's loads first)
override XS: u32 = 9u;            // staged x slots: chunksPerRow * (CH / 4 + pad), pad 1 unless f32

const MAX_ROWS: u32 = 8u;

// #include gemv-io.wgsl

var<workgroup> xsh: array<vec4<f32>, XS>;

// #include weights.wgsl

// vec4 slots of one chunk in xsh, and its padded stride
fn vecsPerChunk() -> u32 { return chunkValues() / 4u; }
fn slotStride() -> u32 { return vecsPerChunk() + select(0u, 1u, KIND != 3u); }

// Adds chunk c of rows r0 .. r0 + ROWS - 1 to acc (nothing when !valid: c is clamped, so the
// loads stay in bounds and the code stays branch-free). Rows past the shard repeat its last row,
// whose results are never stored.
fn accumulate(acc: ptr<function, array<f32, MAX_ROWS>>, r0: u32, c_: u32, valid: bool) {
  let c = min(c_, p.chunksPerRow - 1u);
  let b = c * slotStride();
  let last = p.rows - 1u;
  if (KIND == 0u) {
    let xv = X8(xsh[b], xsh[b + 1u], xsh[b + 2u], xsh[b + 3u], xsh[b + 4u], xsh[b + 5u], xsh[b + 6u], xsh[b + 7u]);
    // rows unrolled with constant indices (the ROWS guards fold away): acc stays in registers
    if (ROWS > 0u) { (*acc)[0] += select(0.0, rowDot4(loadRow4(min(r0, last), c), xv), valid); }
    if (ROWS > 1u) { (*acc)[1] += select(0.0, rowDot4(loadRow4(min(r0 + 1u, last), c), xv), valid); }
    if (ROWS > 2u) { (*acc)[2] += select(0.0, rowDot4(loadRow4(min(r0 + 2u, last), c), xv), valid); }
    if (ROWS > 3u) { (*acc)[3] += select(0.0, rowDot4(loadRow4(min(r0 + 3u, last), c), xv), valid); }
    if (ROWS > 4u) { (*acc)[4] += select(0.0, rowDot4(loadRow4(min(r0 + 4u, last), c), xv), valid); }
    if (ROWS > 5u) { (*acc)[5] += select(0.0, rowDot4(loadRow4(min(r0 + 5u, last), c), xv), valid); }
    if (ROWS > 6u) { (*acc)[6] += select(0.0, rowDot4(loadRow4(min(r0 + 6u, last), c), xv), valid); }
    if (ROWS > 7u) { (*acc)[7] += select(0.0, rowDot4(loadRow4(min(r0 + 7u, last), c), xv), valid); }
  } else {
    var xs: array<vec4<f32>, 8>;
    for (var j = 0u; j < vecsPerChunk(); j++) { xs[j] = xsh[b + j]; }
    for (var r = 0u; r < ROWS; r++) {
      let row = min(r0 + r, last);
      // int8: the row's scale; f16 / f32: none
      let scale = select(1.0, scaleAt(row), KIND == 1u);
      (*acc)[r] += select(0.0, scale * chunkDot(w[row * p.chunksPerRow + c], xs, 8.0), valid);
    }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32,
        @builtin(subgroup_invocation_id) lane: u32, @builtin(subgroup_size) width: u32,
        @builtin(subgroup_id) sg: u32, @builtin(num_subgroups) nsg: u32) {
  // x once for the whole K: vec4 s (k = 4s) of chunk s / V goes to slot (s / V) * stride + s % V,
  // int4 values pre-scaled by the factor of their vec4 within the chunk (exact powers of two)
  let V = vecsPerChunk();
  for (var s = t; s < p.chunksPerRow * V; s += WG) {
    let k = 4u * s;
    var v = x4(k, k + 4u <= p.K);
    if (KIND == 0u) { v *= xFactor(s % V); }
    xsh[(s / V) * slotStride() + s % V] = v;
  }
  workgroupBarrier();
  for (var g = sg; g < GROUPS; g += nsg) {
    let r0 = ((wid.x + wid.y * p.gridX) * GROUPS + g) * ROWS;
    var acc: array<f32, MAX_ROWS>;
    for (var c = lane; c < p.chunksPerRow; c += width * UNROLL) {
      accumulate(&acc, r0, c, true);
      if (UNROLL > 1u) { accumulate(&acc, r0, c + width, c + width < p.chunksPerRow); }
    }
    for (var r = 0u; r < ROWS; r++) {
      let s = subgroupAdd(acc[r]);
      if (lane == 0u && r0 + r < p.rows) { y[p.rowBase + r0 + r] = s; }
    }
  }
}
