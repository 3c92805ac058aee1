// Piece "weights" (not a kernel on its own): spliced into gemv_rg.wgsl and the gemv piece by an include line naming weights.wgsl
// (kernels-wgsl/compose.ts). Edit it here once; every variant that includes it changes with it.

// #include weight-access.wgsl

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
