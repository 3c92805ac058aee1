enable subgroups;

// GEMV for decode: y[rowBase + r] = sum_k W[r, k] * x[k] over one row shard, f32 accumulation.
// Subgroups variant: reduction with subgroupAdd, one barrier. Needs the 'subgroups' feature.
// Weight layout (see kernels-wgsl/README.md): each row is chunksPerRow vec4<u32> chunks of
// CH k-values; KIND 0 int4 (CH 32), 1 int8 (CH 16), 2 f16 (CH 8), 3 f32 (CH 4).

// ---- shared gemv: identical in gemv.wgsl and gemv_sg.wgsl (WGSL has no include; compile.test.ts
// checks the copies). The files differ only in their header and main's reduction ----

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

struct Params {
  K: u32,
  rows: u32,          // rows in this shard
  rowBase: u32,       // first output row of this shard
  chunksPerRow: u32,
  groupsPerRow: u32,
  gridX: u32,         // workgroups along x (the grid is folded into 2-D past 65535)
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> w: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read> scales: array<u32>;
@group(0) @binding(3) var<storage, read> zeros: array<u32>;
@group(0) @binding(4) var<storage, read> x: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

var<workgroup> red: array<f32, RED>;
var<workgroup> xsh: array<vec4<f32>, XS>;

// ---- shared weights: weight decoding helpers (also in gemv.wgsl, gemv_sg.wgsl, gemv_rg.wgsl) ----
fn chunkValues() -> u32 {
  switch KIND {
    case 0u: { return 32u; }
    case 1u: { return 16u; }
    case 2u: { return 8u; }
    default: { return 4u; }
  }
}

fn scaleAt(i: u32) -> f32 {
  if (SCALE_F16) { return unpack2x16float(scales[i >> 1u])[i & 1u]; }
  return bitcast<f32>(scales[i]);
}

fn zeroAt(i: u32) -> f32 {
  if (HAS_ZEROS) { return f32((zeros[i >> 3u] >> ((i & 7u) * 4u)) & 15u); }
  return 8.0;
}

fn xAt(k: u32) -> f32 {
  if (k < p.K) { return x[k]; }
  return 0.0;
}

// x[k .. k+4), bounds-checked only for the ragged last chunk.
fn x4(k: u32, full: bool) -> vec4<f32> {
  if (full) { return vec4<f32>(x[k], x[k + 1u], x[k + 2u], x[k + 3u]); }
  return vec4<f32>(xAt(k), xAt(k + 1u), xAt(k + 2u), xAt(k + 3u));
}

const TWO23: f32 = 8388608.0;

// ---- int4 fast path (straight-line, no dynamically indexed local arrays) ----
// A word's 8 nibbles are masked IN PLACE (no per-nibble shift): the low nibbles of bytes 0..3 as
// (w, w, w, w >> 8) & (0xF, 0xF00, 0xF0000, 0xF0000) = q * LO_F, the high nibbles as
// (w, w, w >> 8, w >> 16) & (0xF0, 0xF000, 0xF000, 0xF000) = q * HI_F (all below bit 20, so exact
// in the mantissa of 2^23). The powers of two are undone on the x side: x is multiplied by 1/LO_F
// and 1/HI_F once when it is loaded (exact), so each product is (q - zero) * x as before. With
// MAGIC the masked value is OR-ed into 2^23 and (2^23 + zero * F) subtracted: exact, one logic op
// (and+or fuse) + one add + one fma per weight; the zero point costs nothing in the inner loop.
const LO_M: vec4<u32> = vec4<u32>(0xFu, 0xF00u, 0xF0000u, 0xF0000u);
const HI_M: vec4<u32> = vec4<u32>(0xF0u, 0xF000u, 0xF000u, 0xF000u);
const LO_F: vec4<f32> = vec4<f32>(1.0, 256.0, 65536.0, 65536.0);
const HI_F: vec4<f32> = vec4<f32>(16.0, 4096.0, 4096.0, 4096.0);
const LO_X: vec4<f32> = vec4<f32>(1.0, 1.0 / 256.0, 1.0 / 65536.0, 1.0 / 65536.0);
const HI_X: vec4<f32> = vec4<f32>(1.0 / 16.0, 1.0 / 4096.0, 1.0 / 4096.0, 1.0 / 4096.0);
const MAGIC_BITS: vec4<u32> = vec4<u32>(0x4B000000u);

// x factor of vec4 j of a chunk: even j meet low nibbles, odd j high nibbles.
fn xFactor(j: u32) -> vec4<f32> { return select(HI_X, LO_X, (j & 1u) == 0u); }

// The 32 x values of one int4 chunk, pre-scaled by xFactor (named fields: no dynamic indexing).
struct X8 { a: vec4<f32>, b: vec4<f32>, c: vec4<f32>, d: vec4<f32>, e: vec4<f32>, f: vec4<f32>, g: vec4<f32>, h: vec4<f32> }

// One row's int4 chunk with its group's scale and zero (loaded before the x barrier).
struct Row4 { w: vec4<u32>, scale: f32, zero: f32 }

fn loadRow4(row: u32, c: u32) -> Row4 {
  let gi = row * p.groupsPerRow + (c * 32u) / GROUP;
  return Row4(w[row * p.chunksPerRow + c], scaleAt(gi), zeroAt(gi));
}

// masked nibbles of one word minus the (scaled) zero: (q - zero) * F, exact
fn lo4(wd: u32, zl: vec4<f32>) -> vec4<f32> {
  let m = vec4<u32>(wd, wd, wd, wd >> 8u) & LO_M;
  if (MAGIC) { return bitcast<vec4<f32>>(m | MAGIC_BITS) - zl; }
  return vec4<f32>(m) - zl;
}
fn hi4(wd: u32, zh: vec4<f32>) -> vec4<f32> {
  let m = vec4<u32>(wd, wd, wd >> 8u, wd >> 16u) & HI_M;
  if (MAGIC) { return bitcast<vec4<f32>>(m | MAGIC_BITS) - zh; }
  return vec4<f32>(m) - zh;
}

// scale * sum over the chunk of (q - zero) * x, vec4 accumulator, f32 throughout.
fn rowDot4(d: Row4, x: X8) -> f32 {
  let off = select(0.0, TWO23, MAGIC);
  let zl = off + d.zero * LO_F;
  let zh = off + d.zero * HI_F;
  var s = lo4(d.w.x, zl) * x.a;
  s = fma(hi4(d.w.x, zh), x.b, s);
  s = fma(lo4(d.w.y, zl), x.c, s);
  s = fma(hi4(d.w.y, zh), x.d, s);
  s = fma(lo4(d.w.z, zl), x.e, s);
  s = fma(hi4(d.w.z, zh), x.f, s);
  s = fma(lo4(d.w.w, zl), x.g, s);
  s = fma(hi4(d.w.w, zh), x.h, s);
  return d.scale * ((s.x + s.y) + (s.z + s.w));
}


fn bytesI8(word: u32) -> vec4<f32> {
  if (MAGIC) {
    // (q + 128) | 2^23 bits, minus 2^23 + 128
    let b = ((vec4<u32>(word) >> vec4<u32>(0u, 8u, 16u, 24u)) & vec4<u32>(255u)) ^ vec4<u32>(128u);
    return bitcast<vec4<f32>>(b | vec4<u32>(0x4B000000u)) - (TWO23 + 128.0);
  }
  return vec4<f32>(bitcast<vec4<i32>>(vec4<u32>(word) << vec4<u32>(24u, 16u, 8u, 0u)) >> vec4<u32>(24u));
}

// Dot of one int8 / f16 / f32 weight chunk (before its scale) with the x values xs (int4: rowDot4).
fn chunkDot(wv: vec4<u32>, xs: array<vec4<f32>, 8>, zero: f32) -> f32 {
  var s = 0.0;
  if (KIND == 1u) {
    for (var j = 0u; j < 4u; j++) { s += dot(bytesI8(wv[j]), xs[j]); }
  } else if (KIND == 2u) {
    s = dot(vec4<f32>(unpack2x16float(wv.x), unpack2x16float(wv.y)), xs[0])
      + dot(vec4<f32>(unpack2x16float(wv.z), unpack2x16float(wv.w)), xs[1]);
  } else {
    s = dot(bitcast<vec4<f32>>(wv), xs[0]);
  }
  return s;
}
// ---- end shared weights ----

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
// ---- end shared gemv ----

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32,
        @builtin(subgroup_invocation_id) lane: u32,
        @builtin(subgroup_id) sg: u32, @builtin(num_subgroups) nsg: u32) {
  let r0 = (wid.x + wid.y * p.gridX) * ROWS;
  var acc = rowSums(r0, t);
  // Subgroup sums, one slot per subgroup (subgroup_id), then ROWS threads add num_subgroups values.
  for (var r = 0u; r < ROWS; r++) {
    let s = subgroupAdd(acc[r]);
    if (lane == 0u) { red[r * WG + sg] = s; }
  }
  workgroupBarrier();
  // ROWS may exceed WG (e.g. 16 rows, 8 threads): each thread writes rows t, t + WG, ...
  for (var r = t; r < ROWS && r0 + r < p.rows; r += WG) {
    var s = 0.0;
    for (var i = 0u; i < nsg; i++) { s += red[r * WG + i]; }
    y[p.rowBase + r0 + r] = s;
  }
}
