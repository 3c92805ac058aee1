// Piece "weight-access" (not a kernel on its own): spliced into the weights and gemv-f16 pieces by an include line naming weight-access.wgsl
// (kernels-wgsl/compose.ts). Edit it here once; every variant that includes it changes with it.

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
