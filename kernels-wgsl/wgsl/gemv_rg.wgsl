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
