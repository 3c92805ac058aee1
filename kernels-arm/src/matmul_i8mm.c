/* SMMLA path (armv8.6-a+i8mm): prefill multiplies a 2-row weight chunk by a 2-token activation
 * chunk (32 MACs per instruction). Decode (M = 1) would waste half of every SMMLA, so it runs
 * the SDOT tile on the same bytes (every i8mm core has dotprod). */
#include "neon_common.h"
#include <stdlib.h>
#include <string.h>

#if !defined(__ARM_FEATURE_MATMUL_INT8) || !defined(__ARM_FEATURE_DOTPROD)
#error "matmul_i8mm.c needs -march=armv8.6-a+i8mm+dotprod"
#endif

/* Q token pairs x 8 rows. Accumulator lanes of SMMLA: [r0 tA, r0 tB, r1 tA, r1 tB]. */
LK_INLINE void q4_smmla_tile(const lk_matrix *w, const uint8_t *panel, lk_act a, int q0, const int Q, int nb, float *y,
                             int n0, int M, const int SYM, const int F16, const int BPG) {
  float32x4_t F[4][2], d0, d1, m0 = vdupq_n_f32(0), m1 = vdupq_n_f32(0);
  const int8_t *qa[2];
  const float *as[2], *asum[2];
  _Pragma("GCC unroll 8")
  for (int q = 0; q < Q; q++) {
    _Pragma("GCC unroll 8")
    for (int rp = 0; rp < 4; rp++) F[rp][q] = vdupq_n_f32(0.0f);
    qa[q] = a.qa + (size_t)(q0 + q) * nb * LK_ACT_PAIR_BYTES;
    as[q] = a.as + (size_t)(q0 + q) * nb * 4;
    asum[q] = a.asum + (size_t)(q0 + q) * nb * 4;
  }
  const uint8_t *p = panel;
  const int8x16_t hmask = vdupq_n_s8((int8_t)0xf0);
  for (int g = 0; g < w->ngroups; g++) {
    p = q4_header(F16, SYM, p, &d0, &d1, &m0, &m1);
    /* scales per row pair in accumulator order: [d0 d0 d1 d1], ... */
    float32x4_t dd[4] = {vzip1q_f32(d0, d0), vzip2q_f32(d0, d0), vzip1q_f32(d1, d1), vzip2q_f32(d1, d1)};
    float32x4_t md[4] = {vzip1q_f32(m0, m0), vzip2q_f32(m0, m0), vzip1q_f32(m1, m1), vzip2q_f32(m1, m1)};
    for (int sb = 0; sb < BPG; sb++, p += LK_Q4_BLOCK_BYTES) {
      /* Rows 0-3 then rows 4-7: 8 unpacked registers live instead of 16, so the 8 accumulators,
       * scales and activations fit the 32 vector registers without spilling; the activation
       * chunks are simply loaded twice. */
      _Pragma("GCC unroll 2")
      for (int h = 0; h < 2; h++) {
        int8x16x4_t P = vld1q_s8_x4((const int8_t *)p + 64 * h);
        int8x16_t W[2][4];
        _Pragma("GCC unroll 2")
        for (int j = 0; j < 2; j++) {
          W[j][0] = vshlq_n_s8(P.val[2 * j], 4);
          W[j][1] = vshlq_n_s8(P.val[2 * j + 1], 4);
          W[j][2] = vandq_s8(P.val[2 * j], hmask);
          W[j][3] = vandq_s8(P.val[2 * j + 1], hmask);
        }
        _Pragma("GCC unroll 8")
        for (int q = 0; q < Q; q++) {
          int8x16x4_t A = vld1q_s8_x4(qa[q]);
          float32x4_t S = vld1q_f32(as[q]);
          _Pragma("GCC unroll 2")
          for (int j = 0; j < 2; j++) {
            int rp = 2 * h + j;
            int32x4_t acc = vmmlaq_s32(vdupq_n_s32(0), W[j][0], A.val[0]);
            _Pragma("GCC unroll 8")
            for (int c = 1; c < 4; c++) acc = vmmlaq_s32(acc, W[j][c], A.val[c]);
            F[rp][q] = vfmaq_f32(F[rp][q], vcvtq_f32_s32(acc), vmulq_f32(dd[rp], S));
            if (!SYM) F[rp][q] = vfmaq_f32(F[rp][q], md[rp], vld1q_f32(asum[q]));
          }
        }
      }
      _Pragma("GCC unroll 8")
      for (int q = 0; q < Q; q++) {
        qa[q] += LK_ACT_PAIR_BYTES;
        as[q] += 4;
        asum[q] += 4;
      }
    }
  }
  int N = w->N;
  _Pragma("GCC unroll 8")
  for (int q = 0; q < Q; q++) {
    int tA = 2 * (q0 + q), tB = tA + 1;
    _Pragma("GCC unroll 8")
    for (int rp = 0; rp < 4; rp++) {
      float o[4];
      vst1q_f32(o, F[rp][q]);
      int n = n0 + 2 * rp;
      if (n < N) { y[(size_t)tA * N + n] = o[0]; if (tB < M) y[(size_t)tB * N + n] = o[1]; }
      if (n + 1 < N) { y[(size_t)tA * N + n + 1] = o[2]; if (tB < M) y[(size_t)tB * N + n + 1] = o[3]; }
    }
  }
}

LK_INLINE void q8_smmla_tile(const lk_matrix *w, const uint8_t *panel, lk_act a, int q0, int Q, int nb, float *y,
                             int n0, int M) {
  float32x4_t F[4][2];
  const int8_t *qa[2];
  const float *as[2];
  _Pragma("GCC unroll 8")
  for (int q = 0; q < Q; q++) {
    _Pragma("GCC unroll 8")
    for (int rp = 0; rp < 4; rp++) F[rp][q] = vdupq_n_f32(0.0f);
    qa[q] = a.qa + (size_t)(q0 + q) * nb * LK_ACT_PAIR_BYTES;
    as[q] = a.as + (size_t)(q0 + q) * nb * 4;
  }
  const int8_t *p = (const int8_t *)panel + LK_Q8_HEADER_BYTES;
  for (int b = 0; b < nb; b++, p += LK_Q8_BLOCK_BYTES) {
    int8x16x4_t Wv[4] = {vld1q_s8_x4(p), vld1q_s8_x4(p + 64), vld1q_s8_x4(p + 128), vld1q_s8_x4(p + 192)};
    _Pragma("GCC unroll 8")
    for (int q = 0; q < Q; q++) {
      int8x16x4_t A = vld1q_s8_x4(qa[q]);
      qa[q] += LK_ACT_PAIR_BYTES;
      float32x4_t S = vld1q_f32(as[q]);
      as[q] += 4;
      _Pragma("GCC unroll 8")
      for (int rp = 0; rp < 4; rp++) {
        int32x4_t acc = vmmlaq_s32(vdupq_n_s32(0), Wv[rp].val[0], A.val[0]);
        _Pragma("GCC unroll 8")
        for (int c = 1; c < 4; c++) acc = vmmlaq_s32(acc, Wv[rp].val[c], A.val[c]);
        F[rp][q] = vfmaq_f32(F[rp][q], vcvtq_f32_s32(acc), S);
      }
    }
  }
  float32x4_t d0 = vld1q_f32((const float *)panel), d1 = vld1q_f32((const float *)panel + 4);
  float32x4_t dd[4] = {vzip1q_f32(d0, d0), vzip2q_f32(d0, d0), vzip1q_f32(d1, d1), vzip2q_f32(d1, d1)};
  int N = w->N;
  _Pragma("GCC unroll 8")
  for (int q = 0; q < Q; q++) {
    int tA = 2 * (q0 + q), tB = tA + 1;
    _Pragma("GCC unroll 8")
    for (int rp = 0; rp < 4; rp++) {
      float o[4];
      vst1q_f32(o, vmulq_f32(F[rp][q], dd[rp]));
      int n = n0 + 2 * rp;
      if (n < N) { y[(size_t)tA * N + n] = o[0]; if (tB < M) y[(size_t)tB * N + n] = o[1]; }
      if (n + 1 < N) { y[(size_t)tA * N + n + 1] = o[2]; if (tB < M) y[(size_t)tB * N + n + 1] = o[3]; }
    }
  }
}

LK_INLINE void q4_sdot_all(const lk_matrix *w, lk_act act, int M, int nb, float *y, const int SYM, const int F16,
                           const int BPG) {
  (void)M;
  for (int n0 = 0; n0 < w->N; n0 += LK_NR)
    q4_sdot_gemv(w, w->data + (size_t)(n0 / LK_NR) * w->panel_bytes, act, nb, y, n0, SYM, F16, BPG);
}

LK_INLINE void q4_smmla_all(const lk_matrix *w, lk_act act, int M, int nb, float *y, const int SYM, const int F16,
                            const int BPG) {
  int npairs = (M + 1) / 2;
  for (int q0 = 0; q0 < npairs; q0 += 2)
    for (int n0 = 0; n0 < w->N; n0 += LK_NR) {
      const uint8_t *panel = w->data + (size_t)(n0 / LK_NR) * w->panel_bytes;
      if (npairs - q0 >= 2) q4_smmla_tile(w, panel, act, q0, 2, nb, y, n0, M, SYM, F16, BPG);
      else q4_smmla_tile(w, panel, act, q0, 1, nb, y, n0, M, SYM, F16, BPG);
    }
}

/* LK_I8MM_DECODE=smmla runs decode through the SMMLA tiles too (the token paired with itself), to
 * measure what SDOT saves there; the default is SDOT. Read once. */
static int smmla_decode(void) {
  static int v = -1;
  if (v < 0) {
    const char *e = getenv("LK_I8MM_DECODE");
    v = e && !strcmp(e, "smmla");
  }
  return v;
}

void lk_matmul_i8mm(const lk_matrix *w, const float *x, int M, float *y, void *work) {
  if (w->type == LK_W_F16 || w->type == LK_W_F32) { matmul_float_neon(w, x, M, y); return; }
  int nb = w->Kp / LK_KB;
  float factor = w->type == LK_W_Q4 ? 1.0f / 16.0f : 1.0f;
  if (M == 1 && !smmla_decode()) {
    lk_act act = lk_act_view(work, 1, nb);
    quant_act_neon(x, 1, w->K, w->Kp, act, 0, factor);
    if (w->type == LK_W_Q4) LK_Q4_SPECIALIZE(q4_sdot_all, w, act, 1, nb, y);
    else {
      for (int n0 = 0; n0 < w->N; n0 += LK_NR) q8_sdot_gemv(w, w->data + (size_t)(n0 / LK_NR) * w->panel_bytes, act, nb, y, n0);
    }
    return;
  }
  int npairs = (M + 1) / 2;
  lk_act act = lk_act_view(work, npairs, nb);
  quant_act_neon(x, M, w->K, w->Kp, act, 1, factor);
  if (w->type == LK_W_Q4) { LK_Q4_SPECIALIZE(q4_smmla_all, w, act, M, nb, y); return; }
  for (int q0 = 0; q0 < npairs; q0 += 2) {
    int Q = npairs - q0 < 2 ? 1 : 2;
    for (int n0 = 0; n0 < w->N; n0 += LK_NR) {
      const uint8_t *panel = w->data + (size_t)(n0 / LK_NR) * w->panel_bytes;
      if (w->type == LK_W_Q4) {
        (void)Q; /* handled by q4_smmla_all */
      } else {
        if (Q == 2) q8_smmla_tile(w, panel, act, q0, 2, nb, y, n0, M);
        else q8_smmla_tile(w, panel, act, q0, 1, nb, y, n0, M);
      }
    }
  }
}
