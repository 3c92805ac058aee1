// IEEE half and bfloat16 conversions. Round-to-nearest-even, as numpy/torch do, so that
// f16 scales written by llamac are the same bits every target reads back.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 -> IEEE binary16 bits (round to nearest even; overflow -> inf; NaN kept). */
export function f32ToF16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let r = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    if (rem > half || (rem === half && (r & 1) !== 0)) r += 1;
    return sign | r;
  }
  let r = mant >>> 13;
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (r & 1) !== 0)) {
    r += 1;
    if (r === 0x400) {
      r = 0;
      e += 1;
      if (e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | r;
}

/** IEEE binary16 bits -> number (exact). */
export function f16BitsToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Round a number to the nearest representable f16 value (returned as a JS number). */
export function roundToF16(value: number): number {
  return f16BitsToF32(f32ToF16Bits(value));
}

/** bfloat16 bits -> float32 value. */
export function bf16BitsToF32(b: number): number {
  u32[0] = b << 16;
  return f32[0];
}

/** Decode little-endian bf16 bytes into a Float32Array (bf16 is the top half of an f32). */
export function decodeBF16(bytes: Uint8Array, out: Float32Array): void {
  // Int32Array: `x << 16` is an int32, and storing it unconverted keeps V8 on its fast path.
  const outBits = new Int32Array(out.buffer, out.byteOffset, out.length);
  if (bytes.byteOffset % 2 === 0) {
    // Aligned (the usual case): one 16-bit load per element (x86 and ARM are little-endian).
    const halves = new Uint16Array(bytes.buffer, bytes.byteOffset, out.length);
    for (let i = 0; i < out.length; i++) outBits[i] = halves[i] << 16;
    return;
  }
  for (let i = 0, j = 0; i < out.length; i++, j += 2) outBits[i] = (bytes[j] | (bytes[j + 1] << 8)) << 16;
}

/** Decode little-endian f16 bytes into a Float32Array. */
export function decodeF16(bytes: Uint8Array, out: Float32Array): void {
  for (let i = 0, j = 0; i < out.length; i++, j += 2) out[i] = f16BitsToF32(bytes[j] | (bytes[j + 1] << 8));
}
