// GEMV for decode with int8 activations: y[rowBase + r] = sum_k W[r, k] * x[k], where x has been
// quantized per block of 32 by quant_x.wgsl (xq int8, xd = (d, sum of q) per block). The weight
// integers meet the activation integers in packed 4 x 8-bit dot products (dot4I8Packed: one DP4A
// on GPUs that have it), so a 32-weight int4 chunk costs 8 dot products and 8 mask/shift ops
// instead of 32 conversions and 32 fmas. The integer sums are exact; each block adds
//   int4: (sum q*xq - zero * sum xq) * scale * d     int8: sum q*xq * d   (times the row scale)
// in f32. The only approximation against the float kernels is x itself (round to 1/254 of the
// block's max |x|), the same trade as llama.cpp's q8_1 activations and ORT MatMulNBits'
// accuracy_level 4. Weight layout and bindings 1-3 as gemv.wgsl (see kernels-wgsl/README.md);
// KIND 0 int4 (any GROUP multiple of 32, symmetric or not, f16/f32 scales), 1 int8 per channel.
//
// Geometry: a workgroup of WG threads is WG / TPR row groups of TPR threads; each row group
// computes ROWS consecutive rows, thread `lane` of it taking chunks lane, lane + TPR, ... and
// reading each chunk's x once for all ROWS rows. One barrier at the end: partial sums go through
// workgroup memory and one thread per output row adds its row group's TPR partials.

override WG: u32 = 64u;   // threads per workgroup (a multiple of TPR)
override TPR: u32 = 16u;  // threads per row group
override ROWS: u32 = 4u;  // rows per row group, at most MAX_ROWS (8)
override RED: u32 = WG * ROWS;

var<workgroup> red: array<f32, RED>;

// #include gemv-q8.wgsl

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let group = t / TPR;
  let lane = t % TPR;
  let r0 = ((wid.x + wid.y * p.gridX) * (WG / TPR) + group) * ROWS;
  let last = p.rows - 1u;
  setToken(wid.z);
  var acc: array<f32, MAX_ROWS>;
  for (var c = lane; c < p.chunksPerRow; c += TPR * UNROLL) {
    accumulate(&acc, r0, c, true);
    if (UNROLL > 1u) { accumulate(&acc, r0, c + TPR, c + TPR < p.chunksPerRow); }
  }
  // partials: slot (row group, lane, row) so that the adding thread reads its TPR values at stride ROWS
  for (var r = 0u; r < ROWS; r++) {
    var s = acc[r];
    if (KIND == 1u) { s *= scaleAt(min(r0 + r, last)); }
    red[t * ROWS + r] = s;
  }
  workgroupBarrier();
  // thread o adds the partials of output o = (row group o / ROWS, row o % ROWS)
  for (var o = t; o < WG / TPR * ROWS; o += WG) {
    let g = o / ROWS;
    let r = o % ROWS;
    let row = ((wid.x + wid.y * p.gridX) * (WG / TPR) + g) * ROWS + r;
    var s = 0.0;
    for (var i = 0u; i < TPR; i++) { s += red[(g * TPR + i) * ROWS + r]; }
    if (row < p.rows) { y[yBase + p.rowBase + row] = s; }
  }
}
