/* NEON building blocks shared by the neon / dotprod / i8mm path files. Each path file includes
 * this header and is compiled with its own -march, so the static functions below are compiled
 * once per path; the SDOT and SMMLA blocks exist only where the target feature is on. */
#ifndef LK_NEON_COMMON_H
#define LK_NEON_COMMON_H
#include "lk_internal.h"
#include <arm_neon.h>

#define LK_INLINE static inline __attribute__((always_inline))

/* ---- activation quantization (the scalar twin's rule, vectorised) ----
 * pair_mode 0: every token is paired with itself (decode layouts: SDOT / SMULL).
 * pair_mode 1: tokens 2i and 2i+1 share a pair (SMMLA); an odd last token pairs with itself.
 * factor: 1/16 for paths that unpack nibbles as value*16 (exact power of two). */
static void quant_act_neon(const float *x, int M, int K, int Kp, lk_act a, int pair_mode, float factor) {
  int nb = Kp / LK_KB;
  for (int t = 0; t < M; t++) {
    int pair = pair_mode ? t / 2 : t, slot = pair_mode ? t % 2 : 0;
    int dup = !pair_mode || (t == M - 1 && (M & 1));
    const float *xt = x + (size_t)t * K;
    for (int b = 0; b < nb; b++) {
      float tmp[LK_KB];
      const float *src = xt + b * LK_KB;
      if ((b + 1) * LK_KB > K) { /* ragged tail: zero padding quantizes to 0 */
        for (int kk = 0; kk < LK_KB; kk++) tmp[kk] = b * LK_KB + kk < K ? src[kk] : 0.0f;
        src = tmp;
      }
      float32x4_t v[8];
      _Pragma("GCC unroll 8")
      for (int i = 0; i < 8; i++) v[i] = vld1q_f32(src + 4 * i);
      float32x4_t mx = vmaxq_f32(vmaxq_f32(vmaxq_f32(vabsq_f32(v[0]), vabsq_f32(v[1])), vmaxq_f32(vabsq_f32(v[2]), vabsq_f32(v[3]))),
                                 vmaxq_f32(vmaxq_f32(vabsq_f32(v[4]), vabsq_f32(v[5])), vmaxq_f32(vabsq_f32(v[6]), vabsq_f32(v[7]))));
      float amax = vmaxvq_f32(mx), id = lk_act_inv_scale(amax), s = lk_act_scale(amax);
      int16x8_t h[4];
      _Pragma("GCC unroll 8")
      for (int i = 0; i < 4; i++)
        h[i] = vcombine_s16(vqmovn_s32(vcvtnq_s32_f32(vmulq_n_f32(v[2 * i], id))),
                            vqmovn_s32(vcvtnq_s32_f32(vmulq_n_f32(v[2 * i + 1], id))));
      int8x16_t q0 = vcombine_s8(vqmovn_s16(h[0]), vqmovn_s16(h[1])), q1 = vcombine_s8(vqmovn_s16(h[2]), vqmovn_s16(h[3]));
      int sum = vaddlvq_s8(q0) + vaddlvq_s8(q1);
      int8_t *dst = a.qa + ((size_t)pair * nb + b) * LK_ACT_PAIR_BYTES + slot * 8;
      int8x8_t c[4] = {vget_low_s8(q0), vget_high_s8(q0), vget_low_s8(q1), vget_high_s8(q1)};
      _Pragma("GCC unroll 8")
      for (int i = 0; i < 4; i++) {
        vst1_s8(dst + 16 * i, c[i]);
        if (dup) vst1_s8(dst + 16 * i + 8, c[i]);
      }
      float *as = a.as + ((size_t)pair * nb + b) * 4, *asum = a.asum + ((size_t)pair * nb + b) * 4;
      float sc = s * factor, su = s * (float)sum;
      as[slot] = as[slot + 2] = sc;
      asum[slot] = asum[slot + 2] = su;
      if (dup) { as[1] = as[3] = sc; asum[1] = asum[3] = su; }
    }
  }
}

/* ---- f16 / f32 weights: k-major panels, FMA by element, sequential in k like the twin ---- */
LK_INLINE void load_w8(const int F16, const uint8_t *panel, int k, float32x4_t *w0, float32x4_t *w1) {
  if (F16) {
    float16x8_t h = vreinterpretq_f16_u16(vld1q_u16((const uint16_t *)panel + (size_t)k * LK_NR));
    *w0 = vcvt_f32_f16(vget_low_f16(h));
    *w1 = vcvt_high_f32_f16(h);
  } else {
    const float *p = (const float *)panel + (size_t)k * LK_NR;
    *w0 = vld1q_f32(p);
    *w1 = vld1q_f32(p + 4);
  }
}

/* Four k steps: one 64-byte (f16) or two 64-byte (f32) loads feed 8 FMAs per token. */
LK_INLINE void load_w8x4(const int F16, const uint8_t *panel, int k, float32x4_t wv[8]) {
  if (F16) {
    uint16x8x4_t h = vld1q_u16_x4((const uint16_t *)panel + (size_t)k * LK_NR);
    _Pragma("GCC unroll 4")
    for (int i = 0; i < 4; i++) {
      float16x8_t f = vreinterpretq_f16_u16(h.val[i]);
      wv[2 * i] = vcvt_f32_f16(vget_low_f16(f));
      wv[2 * i + 1] = vcvt_high_f32_f16(f);
    }
  } else {
    float32x4x4_t a = vld1q_f32_x4((const float *)panel + (size_t)k * LK_NR);
    float32x4x4_t b = vld1q_f32_x4((const float *)panel + (size_t)k * LK_NR + 16);
    wv[0] = a.val[0]; wv[1] = a.val[1]; wv[2] = a.val[2]; wv[3] = a.val[3];
    wv[4] = b.val[0]; wv[5] = b.val[1]; wv[6] = b.val[2]; wv[7] = b.val[3];
  }
}

#define LK_FSTEP(L)                                                                  \
  _Pragma("GCC unroll 8") for (int t = 0; t < T; t++) {                              \
    acc[t][0] = vfmaq_laneq_f32(acc[t][0], wv[2 * L], xv[t], L);                     \
    acc[t][1] = vfmaq_laneq_f32(acc[t][1], wv[2 * L + 1], xv[t], L);                 \
  }

LK_INLINE void float_tile(const lk_matrix *w, const uint8_t *panel, const float *x, const int T, float *y, int n0,
                          const int F16) {
  int K = w->K, N = w->N, k = 0;
  float32x4_t acc[4][2], xv[4], wv[8], w0, w1;
  _Pragma("GCC unroll 8")
  for (int t = 0; t < T; t++) acc[t][0] = acc[t][1] = vdupq_n_f32(0.0f);
  for (; k + 4 <= K; k += 4) {
    _Pragma("GCC unroll 8")
    for (int t = 0; t < T; t++) xv[t] = vld1q_f32(x + (size_t)t * K + k);
    load_w8x4(F16, panel, k, wv);
    LK_FSTEP(0) LK_FSTEP(1) LK_FSTEP(2) LK_FSTEP(3)
  }
  for (; k < K; k++) {
    load_w8(F16, panel, k, &w0, &w1);
    _Pragma("GCC unroll 8")
    for (int t = 0; t < T; t++) {
      float32x4_t xs = vdupq_n_f32(x[(size_t)t * K + k]);
      acc[t][0] = vfmaq_f32(acc[t][0], w0, xs);
      acc[t][1] = vfmaq_f32(acc[t][1], w1, xs);
    }
  }
  _Pragma("GCC unroll 8")
  for (int t = 0; t < T; t++) {
    float o[LK_NR];
    vst1q_f32(o, acc[t][0]);
    vst1q_f32(o + 4, acc[t][1]);
    for (int r = 0; r < LK_NR && n0 + r < N; r++) y[(size_t)t * N + n0 + r] = o[r];
  }
}

LK_INLINE void store_rows(float *yrow, int n0, int N, float32x4_t a, float32x4_t b);

/* f16 decode: 8 k per trip (one 2-register activation load, two 64-byte weight loads), so the loop
 * and load overhead is spread over 64 weights. Same FMA order as the twin. */
LK_INLINE void f16_gemv_panel(const lk_matrix *w, const uint8_t *panel, const float *x, float *y, int n0) {
  int K = w->K, k = 0;
  float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0;
  const uint16_t *p = (const uint16_t *)panel;
#define LK_H8(H, X, L)                                                         \
  a0 = vfmaq_laneq_f32(a0, vcvt_f32_f16(vget_low_f16(vreinterpretq_f16_u16(H))), X, L); \
  a1 = vfmaq_laneq_f32(a1, vcvt_high_f32_f16(vreinterpretq_f16_u16(H)), X, L);
  for (; k + 8 <= K; k += 8, p += 64) {
    float32x4x2_t xv = vld1q_f32_x2(x + k);
    uint16x8x4_t h0 = vld1q_u16_x4(p), h1 = vld1q_u16_x4(p + 32);
    LK_H8(h0.val[0], xv.val[0], 0) LK_H8(h0.val[1], xv.val[0], 1) LK_H8(h0.val[2], xv.val[0], 2) LK_H8(h0.val[3], xv.val[0], 3)
    LK_H8(h1.val[0], xv.val[1], 0) LK_H8(h1.val[1], xv.val[1], 1) LK_H8(h1.val[2], xv.val[1], 2) LK_H8(h1.val[3], xv.val[1], 3)
  }
#undef LK_H8
  for (; k < K; k++, p += 8) {
    float16x8_t h = vreinterpretq_f16_u16(vld1q_u16(p));
    float32x4_t xs = vdupq_n_f32(x[k]);
    a0 = vfmaq_f32(a0, vcvt_f32_f16(vget_low_f16(h)), xs);
    a1 = vfmaq_f32(a1, vcvt_high_f32_f16(h), xs);
  }
  store_rows(y, n0, w->N, a0, a1);
}

LK_INLINE void matmul_float_all(const lk_matrix *w, const float *x, int M, float *y, const int F16) {
  for (int t0 = 0; t0 < M; t0 += 4) {
    int T = M - t0 < 4 ? M - t0 : 4;
    for (int n0 = 0; n0 < w->N; n0 += LK_NR) {
      const uint8_t *panel = w->data + (size_t)(n0 / LK_NR) * w->panel_bytes;
      const float *xt = x + (size_t)t0 * w->K;
      float *yt = y + (size_t)t0 * w->N;
      switch (T) { /* constant T lets the tile keep its accumulators in registers */
        case 1: float_tile(w, panel, xt, 1, yt, n0, F16); break;
        case 2: float_tile(w, panel, xt, 2, yt, n0, F16); break;
        case 3: float_tile(w, panel, xt, 3, yt, n0, F16); break;
        default: float_tile(w, panel, xt, 4, yt, n0, F16); break;
      }
    }
  }
}

static void matmul_float_neon(const lk_matrix *w, const float *x, int M, float *y) {
  if (w->type == LK_W_F16 && M == 1) {
    for (int n0 = 0; n0 < w->N; n0 += LK_NR) f16_gemv_panel(w, w->data + (size_t)(n0 / LK_NR) * w->panel_bytes, x, y, n0);
  } else if (w->type == LK_W_F16) matmul_float_all(w, x, M, y, 1);
  else matmul_float_all(w, x, M, y, 0);
}

/* Load one q4 group header: scales for rows 0-3 / 4-7 and (zero points) the offsets m. */
LK_INLINE const uint8_t *q4_header(const int F16, const int SYM, const uint8_t *p, float32x4_t *d0, float32x4_t *d1,
                                   float32x4_t *m0, float32x4_t *m1) {
  if (F16) {
    float16x8_t h = vreinterpretq_f16_u16(vld1q_u16((const uint16_t *)p));
    *d0 = vcvt_f32_f16(vget_low_f16(h));
    *d1 = vcvt_high_f32_f16(h);
    p += 16;
  } else {
    *d0 = vld1q_f32((const float *)p);
    *d1 = vld1q_f32((const float *)p + 4);
    p += 32;
  }
  if (!SYM) {
    *m0 = vld1q_f32((const float *)p);
    *m1 = vld1q_f32((const float *)p + 4);
    p += 32;
  }
  return p;
}

/* Store the 8 rows of one token from two [r0..r3] [r4..r7] vectors. */
LK_INLINE void store_rows(float *yrow, int n0, int N, float32x4_t a, float32x4_t b) {
  if (n0 + LK_NR <= N) {
    vst1q_f32(yrow + n0, a);
    vst1q_f32(yrow + n0 + 4, b);
  } else {
    float o[LK_NR];
    vst1q_f32(o, a);
    vst1q_f32(o + 4, b);
    for (int r = 0; n0 + r < N; r++) yrow[n0 + r] = o[r];
  }
}

/* Accumulate one k block of 8 rows for one token: F += float(isum) * (d * as) [+ m * asum]. */
LK_INLINE void q_block_acc(int32x4_t r03, int32x4_t r47, float32x4_t d0, float32x4_t d1, float32x4_t m0, float32x4_t m1,
                           const float *as, const float *asum, int sym, float32x4_t *F0, float32x4_t *F1) {
  float32x4_t s = vld1q_dup_f32(as);
  *F0 = vfmaq_f32(*F0, vcvtq_f32_s32(r03), vmulq_f32(d0, s));
  *F1 = vfmaq_f32(*F1, vcvtq_f32_s32(r47), vmulq_f32(d1, s));
  if (!sym) {
    float32x4_t u = vld1q_dup_f32(asum);
    *F0 = vfmaq_f32(*F0, m0, u);
    *F1 = vfmaq_f32(*F1, m1, u);
  }
}

/* ---- plain NEON (armv8-a): SMULL/SMLAL into int16, pairwise widen ---- */

LK_INLINE void q4_smull_tile(const lk_matrix *w, const uint8_t *panel, lk_act a, int t0, const int T, int nb, float *y, int n0,
                        const int SYM, const int F16, const int BPG) {
  float32x4_t F[4][2], d0, d1, m0 = vdupq_n_f32(0), m1 = vdupq_n_f32(0);
  const int8_t *qa[4];
  const float *as[4], *asum[4];
  _Pragma("GCC unroll 8")
  for (int t = 0; t < T; t++) {
    F[t][0] = F[t][1] = vdupq_n_f32(0.0f);
    qa[t] = a.qa + (size_t)(t0 + t) * nb * LK_ACT_PAIR_BYTES;
    as[t] = a.as + (size_t)(t0 + t) * nb * 4;
    asum[t] = a.asum + (size_t)(t0 + t) * nb * 4;
  }
  const uint8_t *p = panel;
  for (int g = 0; g < w->ngroups; g++) {
    p = q4_header(F16, SYM, p, &d0, &d1, &m0, &m1);
    for (int sb = 0; sb < BPG; sb++, p += LK_Q4_BLOCK_BYTES) {
      int8x16x4_t P0 = vld1q_s8_x4((const int8_t *)p), P1 = vld1q_s8_x4((const int8_t *)p + 64);
      int8x16_t Pv[8] = {P0.val[0], P0.val[1], P0.val[2], P0.val[3], P1.val[0], P1.val[1], P1.val[2], P1.val[3]};
      int8x16_t W[4][4];
      _Pragma("GCC unroll 8")
      for (int rp = 0; rp < 4; rp++) { /* signed nibbles: q - 8 */
        W[rp][0] = vshrq_n_s8(vshlq_n_s8(Pv[2 * rp], 4), 4);
        W[rp][1] = vshrq_n_s8(vshlq_n_s8(Pv[2 * rp + 1], 4), 4);
        W[rp][2] = vshrq_n_s8(Pv[2 * rp], 4);
        W[rp][3] = vshrq_n_s8(Pv[2 * rp + 1], 4);
      }
      _Pragma("GCC unroll 8")
      for (int t = 0; t < T; t++) {
        int8x16x4_t A = vld1q_s8_x4(qa[t]);
        qa[t] += LK_ACT_PAIR_BYTES;
        int16x8_t lo[4], hi[4];
        _Pragma("GCC unroll 8")
        for (int rp = 0; rp < 4; rp++) { /* |sum of 4 products| <= 4*8*127: fits int16 */
          lo[rp] = vmull_s8(vget_low_s8(W[rp][0]), vget_low_s8(A.val[0]));
          hi[rp] = vmull_high_s8(W[rp][0], A.val[0]);
          _Pragma("GCC unroll 8")
          for (int c = 1; c < 4; c++) {
            lo[rp] = vmlal_s8(lo[rp], vget_low_s8(W[rp][c]), vget_low_s8(A.val[c]));
            hi[rp] = vmlal_high_s8(hi[rp], W[rp][c], A.val[c]);
          }
        }
        /* A row's 32 products sum to at most 32*8*127 = 32512: the whole reduction stays in int16. */
        int16x8_t s03 = vpaddq_s16(vpaddq_s16(lo[0], hi[0]), vpaddq_s16(lo[1], hi[1]));
        int16x8_t s47 = vpaddq_s16(vpaddq_s16(lo[2], hi[2]), vpaddq_s16(lo[3], hi[3]));
        int16x8_t s07 = vpaddq_s16(s03, s47);
        int32x4_t r03 = vmovl_s16(vget_low_s16(s07)), r47 = vmovl_high_s16(s07);
        q_block_acc(r03, r47, d0, d1, m0, m1, as[t], asum[t], SYM, &F[t][0], &F[t][1]);
        as[t] += 4;
        asum[t] += 4;
      }
    }
  }
  _Pragma("GCC unroll 8")
  for (int t = 0; t < T; t++) store_rows(y + (size_t)(t0 + t) * w->N, n0, w->N, F[t][0], F[t][1]);
}

LK_INLINE void q8_smull_tile(const lk_matrix *w, const uint8_t *panel, lk_act a, int t0, int T, int nb, float *y, int n0) {
  float32x4_t F[4][2];
  const int8_t *qa[4];
  const float *as[4];
  _Pragma("GCC unroll 8")
  for (int t = 0; t < T; t++) {
    F[t][0] = F[t][1] = vdupq_n_f32(0.0f);
    qa[t] = a.qa + (size_t)(t0 + t) * nb * LK_ACT_PAIR_BYTES;
    as[t] = a.as + (size_t)(t0 + t) * nb * 4;
  }
  const int8_t *p = (const int8_t *)panel + LK_Q8_HEADER_BYTES;
  for (int b = 0; b < nb; b++, p += LK_Q8_BLOCK_BYTES) {
    int8x16x4_t Wv[4] = {vld1q_s8_x4(p), vld1q_s8_x4(p + 64), vld1q_s8_x4(p + 128), vld1q_s8_x4(p + 192)};
    _Pragma("GCC unroll 8")
    for (int t = 0; t < T; t++) {
      int8x16x4_t A = vld1q_s8_x4(qa[t]);
      qa[t] += LK_ACT_PAIR_BYTES;
      int32x4_t s[8];
      _Pragma("GCC unroll 8")
      for (int rp = 0; rp < 4; rp++) { /* two int8 products fit int16 (|q| <= 127) */
        const int8x16_t *Wr = Wv[rp].val;
        int16x8_t l = vmlal_s8(vmull_s8(vget_low_s8(Wr[0]), vget_low_s8(A.val[0])), vget_low_s8(Wr[1]), vget_low_s8(A.val[1]));
        int16x8_t l2 = vmlal_s8(vmull_s8(vget_low_s8(Wr[2]), vget_low_s8(A.val[2])), vget_low_s8(Wr[3]), vget_low_s8(A.val[3]));
        int16x8_t h = vmlal_high_s8(vmull_high_s8(Wr[0], A.val[0]), Wr[1], A.val[1]);
        int16x8_t h2 = vmlal_high_s8(vmull_high_s8(Wr[2], A.val[2]), Wr[3], A.val[3]);
        s[2 * rp] = vpadalq_s16(vpaddlq_s16(l), l2);
        s[2 * rp + 1] = vpadalq_s16(vpaddlq_s16(h), h2);
      }
      int32x4_t r03 = vpaddq_s32(vpaddq_s32(s[0], s[1]), vpaddq_s32(s[2], s[3]));
      int32x4_t r47 = vpaddq_s32(vpaddq_s32(s[4], s[5]), vpaddq_s32(s[6], s[7]));
      float32x4_t sc = vld1q_dup_f32(as[t]);
      as[t] += 4;
      F[t][0] = vfmaq_f32(F[t][0], vcvtq_f32_s32(r03), sc);
      F[t][1] = vfmaq_f32(F[t][1], vcvtq_f32_s32(r47), sc);
    }
  }
  float32x4_t d0 = vld1q_f32((const float *)panel), d1 = vld1q_f32((const float *)panel + 4);
  _Pragma("GCC unroll 8")
  for (int t = 0; t < T; t++)
    store_rows(y + (size_t)(t0 + t) * w->N, n0, w->N, vmulq_f32(F[t][0], d0), vmulq_f32(F[t][1], d1));
}

#if defined(__ARM_FEATURE_DOTPROD)
/* ---- SDOT: nibbles unpacked as value*16 (SHL / AND 0xF0), activation scale carries 1/16 ---- */
LK_INLINE void q4_sdot_tile(const lk_matrix *w, const uint8_t *panel, lk_act a, int t0, const int T, int nb, float *y, int n0,
                        const int SYM, const int F16, const int BPG) {
  float32x4_t F[4][2], d0, d1, m0 = vdupq_n_f32(0), m1 = vdupq_n_f32(0);
  const int8_t *qa[4];
  const float *as[4], *asum[4];
  /* Decode (T == 1) keeps running int32 sums and subtracts the previous block's pairwise sums:
   * two SUBs per block instead of four accumulator resets. Wrap-around is harmless: a block's
   * sum always fits in int32, and the difference is exact modulo 2^32. */
  int32x4_t racc[4], prev03 = vdupq_n_s32(0), prev47 = vdupq_n_s32(0);
  _Pragma("GCC unroll 8")
  for (int rp = 0; rp < 4; rp++) racc[rp] = vdupq_n_s32(0);
  _Pragma("GCC unroll 8")
  for (int t = 0; t < T; t++) {
    F[t][0] = F[t][1] = vdupq_n_f32(0.0f);
    qa[t] = a.qa + (size_t)(t0 + t) * nb * LK_ACT_PAIR_BYTES;
    as[t] = a.as + (size_t)(t0 + t) * nb * 4;
    asum[t] = a.asum + (size_t)(t0 + t) * nb * 4;
  }
  const uint8_t *p = panel;
  const int8x16_t hmask = vdupq_n_s8((int8_t)0xf0);
  _Pragma("GCC unroll 2")
  for (int g = 0; g < w->ngroups; g++) {
    p = q4_header(F16, SYM, p, &d0, &d1, &m0, &m1);
    _Pragma("GCC unroll 8")
    for (int sb = 0; sb < BPG; sb++, p += LK_Q4_BLOCK_BYTES) {
      int8x16x4_t P0 = vld1q_s8_x4((const int8_t *)p), P1 = vld1q_s8_x4((const int8_t *)p + 64);
      int8x16_t Pv[8] = {P0.val[0], P0.val[1], P0.val[2], P0.val[3], P1.val[0], P1.val[1], P1.val[2], P1.val[3]};
      int8x16_t W[4][4];
      _Pragma("GCC unroll 8")
      for (int rp = 0; rp < 4; rp++) {
        W[rp][0] = vshlq_n_s8(Pv[2 * rp], 4);
        W[rp][1] = vshlq_n_s8(Pv[2 * rp + 1], 4);
        W[rp][2] = vandq_s8(Pv[2 * rp], hmask);
        W[rp][3] = vandq_s8(Pv[2 * rp + 1], hmask);
      }
      _Pragma("GCC unroll 8")
      for (int t = 0; t < T; t++) {
        int8x16x4_t A = vld1q_s8_x4(qa[t]);
        qa[t] += LK_ACT_PAIR_BYTES;
        int32x4_t acc[4], r03, r47;
        _Pragma("GCC unroll 8")
        for (int rp = 0; rp < 4; rp++) {
          acc[rp] = T == 1 ? racc[rp] : vdupq_n_s32(0);
          _Pragma("GCC unroll 8")
          for (int c = 0; c < 4; c++) acc[rp] = vdotq_s32(acc[rp], W[rp][c], A.val[c]);
        }
        /* lanes [r0 k0-3, r0 k4-7, r1 k0-3, r1 k4-7] -> pairwise add gives [r0, r1, r2, r3] */
        r03 = vpaddq_s32(acc[0], acc[1]);
        r47 = vpaddq_s32(acc[2], acc[3]);
        if (T == 1) {
          _Pragma("GCC unroll 8")
          for (int rp = 0; rp < 4; rp++) racc[rp] = acc[rp];
          int32x4_t c03 = r03, c47 = r47;
          r03 = vsubq_s32(c03, prev03);
          r47 = vsubq_s32(c47, prev47);
          prev03 = c03;
          prev47 = c47;
        }
        q_block_acc(r03, r47, d0, d1, m0, m1, as[t], asum[t], SYM, &F[t][0], &F[t][1]);
        as[t] += 4;
        asum[t] += 4;
      }
    }
  }
  _Pragma("GCC unroll 8")
  for (int t = 0; t < T; t++) store_rows(y + (size_t)(t0 + t) * w->N, n0, w->N, F[t][0], F[t][1]);
}

/* The integer part of one decode block (8 rows x 32 k), written as assembly so the three loads
 * post-increment their pointers and each nibble register is unpacked in place (SHL into a
 * scratch register, then AND over the source): 3 loads + 16 unpack + 16 SDOT, nothing else.
 * Same arithmetic as the intrinsics in q4_sdot_tile. */
#define LK_SDOT_ROWPAIR(R, PA, PB)                          \
  "shl  v28.16b, " PA ".16b, #4\n"                          \
  "sdot %[" R "].4s, v28.16b, v16.16b\n"                    \
  "shl  v28.16b, " PB ".16b, #4\n"                          \
  "sdot %[" R "].4s, v28.16b, v17.16b\n"                    \
  "and  " PA ".16b, " PA ".16b, %[m].16b\n"                 \
  "sdot %[" R "].4s, " PA ".16b, v18.16b\n"                 \
  "and  " PB ".16b, " PB ".16b, %[m].16b\n"                 \
  "sdot %[" R "].4s, " PB ".16b, v19.16b\n"
#define LK_Q4_SDOT_BLOCK(p, qa, r0, r1, r2, r3, hmask)                                          \
  __asm__("ld1 {v16.16b-v19.16b}, [%[qa]], #64\n"                                               \
          "ld1 {v20.16b-v23.16b}, [%[p]], #64\n"                                                \
          "ld1 {v24.16b-v27.16b}, [%[p]], #64\n"                                                \
          LK_SDOT_ROWPAIR("r0", "v20", "v21") LK_SDOT_ROWPAIR("r1", "v22", "v23")               \
          LK_SDOT_ROWPAIR("r2", "v24", "v25") LK_SDOT_ROWPAIR("r3", "v26", "v27")               \
          : [p] "+r"(p), [qa] "+r"(qa), [r0] "+w"(r0), [r1] "+w"(r1), [r2] "+w"(r2), [r3] "+w"(r3) \
          : [m] "w"(hmask), "m"(*(const uint8_t(*)[128])p), "m"(*(const int8_t(*)[64])qa)     \
          : "v16", "v17", "v18", "v19", "v20", "v21", "v22", "v23", "v24", "v25", "v26", "v27", "v28")

/* q4_header with post-incremented loads written out, so the decode loop keeps one pointer. */
LK_INLINE const uint8_t *q4_header_pi(const int F16, const int SYM, const uint8_t *p, float32x4_t *d0, float32x4_t *d1,
                                      float32x4_t *m0, float32x4_t *m1) {
  if (F16) {
    uint16x8_t h;
    __asm__("ldr %q0, [%1], #16" : "=w"(h), "+r"(p) : "m"(*(const uint8_t(*)[16])p));
    float16x8_t f = vreinterpretq_f16_u16(h);
    *d0 = vcvt_f32_f16(vget_low_f16(f));
    *d1 = vcvt_high_f32_f16(f);
  } else {
    __asm__("ldp %q0, %q1, [%2], #32" : "=w"(*d0), "=w"(*d1), "+r"(p) : "m"(*(const uint8_t(*)[32])p));
  }
  if (!SYM) __asm__("ldp %q0, %q1, [%2], #32" : "=w"(*m0), "=w"(*m1), "+r"(p) : "m"(*(const uint8_t(*)[32])p));
  return p;
}

/* Decode GEMV for one 8-row panel on SDOT. Running int32 sums replace per-block resets: a block's
 * sum is the pairwise-added running sum minus the previous one (two SUBs instead of four register
 * resets; wrap-around is harmless because each block sum fits in int32 and the difference is exact
 * modulo 2^32). The previous sums alternate between two named registers, so blocks come in pairs. */
#define LK_Q4_GEMV_BLOCK(PIN03, PIN47, POUT03, POUT47)                                                        \
  do {                                                                                          \
    if (sb == 0) { p = q4_header_pi(F16, SYM, p, &d0, &d1, &m0, &m1); }                         \
    LK_Q4_SDOT_BLOCK(p, qa, r0, r1, r2, r3, hmask);                                             \
    int32x4_t c03 = vpaddq_s32(r0, r1), c47 = vpaddq_s32(r2, r3);                               \
    {                                                                                           \
      float s_;                                                                                 \
      __asm__("ldr %s0, [%1], #16" : "=w"(s_), "+r"(as) : "m"(*(const float(*)[4])as));        \
      F0 = vfmaq_f32(F0, vcvtq_f32_s32(vsubq_s32(c03, PIN03)), vmulq_n_f32(d0, s_));            \
      F1 = vfmaq_f32(F1, vcvtq_f32_s32(vsubq_s32(c47, PIN47)), vmulq_n_f32(d1, s_));            \
      if (!SYM) {                                                                               \
        float u_;                                                                               \
        __asm__("ldr %s0, [%1], #16" : "=w"(u_), "+r"(asum) : "m"(*(const float(*)[4])asum));  \
        F0 = vfmaq_n_f32(F0, m0, u_);                                                           \
        F1 = vfmaq_n_f32(F1, m1, u_);                                                           \
      }                                                                                         \
    }                                                                                           \
    POUT03 = c03; POUT47 = c47;                                                                 \
    if (++sb == BPG) sb = 0;                                                                    \
  } while (0)

LK_INLINE void q4_sdot_gemv(const lk_matrix *w, const uint8_t *panel, lk_act a, int nb, float *y, int n0,
                            const int SYM, const int F16, const int BPG) {
  float32x4_t F0 = vdupq_n_f32(0.0f), F1 = F0, d0 = F0, d1 = F0, m0 = F0, m1 = F0;
  int32x4_t r0 = vdupq_n_s32(0), r1 = r0, r2 = r0, r3 = r0, pa03 = r0, pa47 = r0, pb03 = r0, pb47 = r0;
  const int8x16_t hmask = vdupq_n_s8((int8_t)0xf0);
  const int8_t *qa = a.qa;
  const float *as = a.as, *asum = a.asum;
  const uint8_t *p = panel;
  int b = 0, sb = 0;
  for (; b + 4 <= nb; b += 4) { /* four blocks per trip: loop overhead over 1024 weights */
    LK_Q4_GEMV_BLOCK(pb03, pb47, pa03, pa47);
    LK_Q4_GEMV_BLOCK(pa03, pa47, pb03, pb47);
    LK_Q4_GEMV_BLOCK(pb03, pb47, pa03, pa47);
    LK_Q4_GEMV_BLOCK(pa03, pa47, pb03, pb47);
  }
  for (; b + 2 <= nb; b += 2) {
    LK_Q4_GEMV_BLOCK(pb03, pb47, pa03, pa47);
    LK_Q4_GEMV_BLOCK(pa03, pa47, pb03, pb47);
  }
  if (b < nb) LK_Q4_GEMV_BLOCK(pb03, pb47, pa03, pa47);
  store_rows(y, n0, w->N, F0, F1);
}

/* int8 decode: the same running-sum scheme as q4_sdot_gemv, weights need no unpacking. */
#define LK_Q8_SDOT_ROWPAIR(R, W0, W1, W2, W3)  \
  "sdot %[" R "].4s, " W0 ".16b, v16.16b\n"    \
  "sdot %[" R "].4s, " W1 ".16b, v17.16b\n"    \
  "sdot %[" R "].4s, " W2 ".16b, v18.16b\n"    \
  "sdot %[" R "].4s, " W3 ".16b, v19.16b\n"
#define LK_Q8_SDOT_BLOCK(p, qa, r0, r1, r2, r3)                                                   \
  __asm__("ld1 {v16.16b-v19.16b}, [%[qa]], #64\n"                                                 \
          "ld1 {v20.16b-v23.16b}, [%[p]], #64\n"                                                  \
          "ld1 {v24.16b-v27.16b}, [%[p]], #64\n"                                                  \
          LK_Q8_SDOT_ROWPAIR("r0", "v20", "v21", "v22", "v23")                                    \
          LK_Q8_SDOT_ROWPAIR("r1", "v24", "v25", "v26", "v27")                                    \
          "ld1 {v20.16b-v23.16b}, [%[p]], #64\n"                                                  \
          "ld1 {v24.16b-v27.16b}, [%[p]], #64\n"                                                  \
          LK_Q8_SDOT_ROWPAIR("r2", "v20", "v21", "v22", "v23")                                    \
          LK_Q8_SDOT_ROWPAIR("r3", "v24", "v25", "v26", "v27")                                    \
          : [p] "+r"(p), [qa] "+r"(qa), [r0] "+w"(r0), [r1] "+w"(r1), [r2] "+w"(r2), [r3] "+w"(r3)   \
          : "m"(*(const int8_t(*)[256])p), "m"(*(const int8_t(*)[64])qa)                          \
          : "v16", "v17", "v18", "v19", "v20", "v21", "v22", "v23", "v24", "v25", "v26", "v27")

#define LK_Q8_GEMV_BLOCK(PIN03, PIN47, POUT03, POUT47)                                          \
  do {                                                                                          \
    LK_Q8_SDOT_BLOCK(p, qa, r0, r1, r2, r3);                                                    \
    int32x4_t c03 = vpaddq_s32(r0, r1), c47 = vpaddq_s32(r2, r3);                               \
    float s_;                                                                                   \
    __asm__("ldr %s0, [%1], #16" : "=w"(s_), "+r"(as) : "m"(*(const float(*)[4])as));          \
    F0 = vfmaq_n_f32(F0, vcvtq_f32_s32(vsubq_s32(c03, PIN03)), s_);                             \
    F1 = vfmaq_n_f32(F1, vcvtq_f32_s32(vsubq_s32(c47, PIN47)), s_);                             \
    POUT03 = c03; POUT47 = c47;                                                                 \
  } while (0)

LK_INLINE void q8_sdot_gemv(const lk_matrix *w, const uint8_t *panel, lk_act a, int nb, float *y, int n0) {
  float32x4_t F0 = vdupq_n_f32(0.0f), F1 = F0;
  int32x4_t r0 = vdupq_n_s32(0), r1 = r0, r2 = r0, r3 = r0, pa03 = r0, pa47 = r0, pb03 = r0, pb47 = r0;
  const int8_t *qa = a.qa;
  const float *as = a.as;
  const uint8_t *p = panel + LK_Q8_HEADER_BYTES;
  int b = 0;
  for (; b + 4 <= nb; b += 4) {
    LK_Q8_GEMV_BLOCK(pb03, pb47, pa03, pa47);
    LK_Q8_GEMV_BLOCK(pa03, pa47, pb03, pb47);
    LK_Q8_GEMV_BLOCK(pb03, pb47, pa03, pa47);
    LK_Q8_GEMV_BLOCK(pa03, pa47, pb03, pb47);
  }
  for (; b + 2 <= nb; b += 2) {
    LK_Q8_GEMV_BLOCK(pb03, pb47, pa03, pa47);
    LK_Q8_GEMV_BLOCK(pa03, pa47, pb03, pb47);
  }
  if (b < nb) LK_Q8_GEMV_BLOCK(pb03, pb47, pa03, pa47);
  float32x4_t d0 = vld1q_f32((const float *)panel), d1 = vld1q_f32((const float *)panel + 4);
  store_rows(y, n0, w->N, vmulq_f32(F0, d0), vmulq_f32(F1, d1));
}

LK_INLINE void q8_sdot_tile(const lk_matrix *w, const uint8_t *panel, lk_act a, int t0, int T, int nb, float *y, int n0) {
  float32x4_t F[4][2];
  const int8_t *qa[4];
  const float *as[4];
  _Pragma("GCC unroll 8")
  for (int t = 0; t < T; t++) {
    F[t][0] = F[t][1] = vdupq_n_f32(0.0f);
    qa[t] = a.qa + (size_t)(t0 + t) * nb * LK_ACT_PAIR_BYTES;
    as[t] = a.as + (size_t)(t0 + t) * nb * 4;
  }
  const int8_t *p = (const int8_t *)panel + LK_Q8_HEADER_BYTES;
  for (int b = 0; b < nb; b++, p += LK_Q8_BLOCK_BYTES) {
    int8x16x4_t Wv[4] = {vld1q_s8_x4(p), vld1q_s8_x4(p + 64), vld1q_s8_x4(p + 128), vld1q_s8_x4(p + 192)};
    _Pragma("GCC unroll 8")
    for (int t = 0; t < T; t++) {
      int8x16x4_t A = vld1q_s8_x4(qa[t]);
      qa[t] += LK_ACT_PAIR_BYTES;
      int32x4_t acc[4];
      _Pragma("GCC unroll 8")
      for (int rp = 0; rp < 4; rp++) {
        acc[rp] = vdotq_s32(vdupq_n_s32(0), Wv[rp].val[0], A.val[0]);
        _Pragma("GCC unroll 8")
        for (int c = 1; c < 4; c++) acc[rp] = vdotq_s32(acc[rp], Wv[rp].val[c], A.val[c]);
      }
      float32x4_t sc = vld1q_dup_f32(as[t]);
      as[t] += 4;
      F[t][0] = vfmaq_f32(F[t][0], vcvtq_f32_s32(vpaddq_s32(acc[0], acc[1])), sc);
      F[t][1] = vfmaq_f32(F[t][1], vcvtq_f32_s32(vpaddq_s32(acc[2], acc[3])), sc);
    }
  }
  float32x4_t d0 = vld1q_f32((const float *)panel), d1 = vld1q_f32((const float *)panel + 4);
  _Pragma("GCC unroll 8")
  for (int t = 0; t < T; t++)
    store_rows(y + (size_t)(t0 + t) * w->N, n0, w->N, vmulq_f32(F[t][0], d0), vmulq_f32(F[t][1], d1));
}
#endif

/* Tile drivers: T tokens at a time over every panel, T a constant in each instantiation. */
#define LK_TILE_LOOP(tile, TMAX, ...)                                                                 \
  for (int t0 = 0; t0 < M; t0 += TMAX) {                                                              \
    int T = M - t0 < TMAX ? M - t0 : TMAX;                                                            \
    for (int n0 = 0; n0 < w->N; n0 += LK_NR) {                                                        \
      const uint8_t *panel = w->data + (size_t)(n0 / LK_NR) * w->panel_bytes;                        \
      if (T == TMAX) tile(w, panel, act, t0, TMAX, nb, y, n0 __VA_ARGS__);                            \
      else for (int tt = 0; tt < T; tt++) tile(w, panel, act, t0 + tt, 1, nb, y, n0 __VA_ARGS__);    \
    }                                                                                                 \
  }

/* Instantiate a q4 driver for the scheme at hand: symmetric or not, f16 or f32 scales, and
 * 1, 2 or 4 k blocks per group, all compile-time so the block loop carries no branches. */
#define LK_Q4_SPECIALIZE(fn, ...)                                                             \
  do {                                                                                        \
    int bpg_ = w->G / LK_KB;                                                                  \
    if (w->sym && w->scale_f16) {                                                             \
      if (bpg_ == 1) fn(__VA_ARGS__, 1, 1, 1); else if (bpg_ == 2) fn(__VA_ARGS__, 1, 1, 2); else fn(__VA_ARGS__, 1, 1, 4); \
    } else if (w->sym) {                                                                      \
      if (bpg_ == 1) fn(__VA_ARGS__, 1, 0, 1); else if (bpg_ == 2) fn(__VA_ARGS__, 1, 0, 2); else fn(__VA_ARGS__, 1, 0, 4); \
    } else if (w->scale_f16) {                                                                \
      if (bpg_ == 1) fn(__VA_ARGS__, 0, 1, 1); else if (bpg_ == 2) fn(__VA_ARGS__, 0, 1, 2); else fn(__VA_ARGS__, 0, 1, 4); \
    } else {                                                                                  \
      if (bpg_ == 1) fn(__VA_ARGS__, 0, 0, 1); else if (bpg_ == 2) fn(__VA_ARGS__, 0, 0, 2); else fn(__VA_ARGS__, 0, 0, 4); \
    }                                                                                         \
  } while (0)

#endif
