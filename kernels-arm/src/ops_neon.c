/* NEON (armv8-a) decoder ops; the scalar twins are in ops_scalar.c. */
#include "neon_common.h"
#include <math.h>

/* exp on 4 lanes: n = round(x*log2 e), r = x - n ln2 (two-part ln2), degree-6 Taylor on |r| <= ln2/2,
 * scale by 2^n built in the exponent bits. Relative error ~2e-7 over the clamped range. */
static inline float32x4_t exp4(float32x4_t x) {
  x = vmaxq_f32(vminq_f32(x, vdupq_n_f32(88.0f)), vdupq_n_f32(-87.0f));
  float32x4_t n = vrndnq_f32(vmulq_n_f32(x, 1.44269504088896341f));
  float32x4_t r = vfmsq_f32(x, n, vdupq_n_f32(0.693145751953125f));
  r = vfmsq_f32(r, n, vdupq_n_f32(1.428606765330187045e-06f));
  float32x4_t p = vdupq_n_f32(1.0f / 720.0f);
  p = vfmaq_f32(vdupq_n_f32(1.0f / 120.0f), p, r);
  p = vfmaq_f32(vdupq_n_f32(1.0f / 24.0f), p, r);
  p = vfmaq_f32(vdupq_n_f32(1.0f / 6.0f), p, r);
  p = vfmaq_f32(vdupq_n_f32(0.5f), p, r);
  p = vfmaq_f32(vdupq_n_f32(1.0f), p, r);
  p = vfmaq_f32(vdupq_n_f32(1.0f), p, r);
  int32x4_t e = vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127)), 23);
  return vmulq_f32(p, vreinterpretq_f32_s32(e));
}
static inline float exp1(float x) { return vgetq_lane_f32(exp4(vdupq_n_f32(x)), 0); }

static inline float sumsq(const float *x, int n) {
  float32x4_t a = vdupq_n_f32(0.0f);
  int i = 0;
  for (; i + 4 <= n; i += 4) { float32x4_t v = vld1q_f32(x + i); a = vfmaq_f32(a, v, v); }
  float s = vaddvq_f32(a);
  for (; i < n; i++) s += x[i] * x[i];
  return s;
}

void lk_rmsnorm_neon(const float *x, const float *w, float *out, int rows, int n, float eps) {
  for (int r = 0; r < rows; r++) {
    const float *xr = x + (size_t)r * n;
    float *o = out + (size_t)r * n;
    float inv = 1.0f / sqrtf(sumsq(xr, n) / (float)n + eps);
    int i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(o + i, vmulq_f32(vmulq_n_f32(vld1q_f32(xr + i), inv), vld1q_f32(w + i)));
    for (; i < n; i++) o[i] = xr[i] * inv * w[i];
  }
}

void lk_rope_neon(float *x, int ld, int M, int H, int hd, const float *cos_t, const float *sin_t) {
  int h2 = hd / 2;
  for (int m = 0; m < M; m++) {
    const float *c = cos_t + (size_t)m * h2, *s = sin_t + (size_t)m * h2;
    for (int h = 0; h < H; h++) {
      float *v = x + (size_t)m * ld + (size_t)h * hd;
      int i = 0;
      for (; i + 4 <= h2; i += 4) {
        float32x4_t a = vld1q_f32(v + i), b = vld1q_f32(v + i + h2), cc = vld1q_f32(c + i), ss = vld1q_f32(s + i);
        vst1q_f32(v + i, vsubq_f32(vmulq_f32(a, cc), vmulq_f32(b, ss)));
        vst1q_f32(v + i + h2, vaddq_f32(vmulq_f32(b, cc), vmulq_f32(a, ss)));
      }
      for (; i < h2; i++) {
        float a = v[i], b = v[i + h2];
        v[i] = a * c[i] - b * s[i];
        v[i + h2] = b * c[i] + a * s[i];
      }
    }
  }
}

void lk_softmax_neon(float *x, int n) {
  float32x4_t mv = vdupq_n_f32(-INFINITY);
  int i = 0;
  for (; i + 4 <= n; i += 4) mv = vmaxq_f32(mv, vld1q_f32(x + i));
  float mx = vmaxvq_f32(mv);
  for (; i < n; i++) mx = x[i] > mx ? x[i] : mx;
  float32x4_t sv = vdupq_n_f32(0.0f), m4 = vdupq_n_f32(mx);
  for (i = 0; i + 4 <= n; i += 4) {
    float32x4_t e = exp4(vsubq_f32(vld1q_f32(x + i), m4));
    vst1q_f32(x + i, e);
    sv = vaddq_f32(sv, e);
  }
  float sum = vaddvq_f32(sv);
  for (; i < n; i++) { x[i] = exp1(x[i] - mx); sum += x[i]; }
  float inv = 1.0f / sum;
  for (i = 0; i + 4 <= n; i += 4) vst1q_f32(x + i, vmulq_n_f32(vld1q_f32(x + i), inv));
  for (; i < n; i++) x[i] *= inv;
}

void lk_swiglu_neon(const float *g, const float *u, float *out, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    float32x4_t gv = vld1q_f32(g + i);
    float32x4_t sig = vdivq_f32(gv, vaddq_f32(vdupq_n_f32(1.0f), exp4(vnegq_f32(gv))));
    vst1q_f32(out + i, vmulq_f32(sig, vld1q_f32(u + i)));
  }
  for (; i < n; i++) out[i] = g[i] / (1.0f + exp1(-g[i])) * u[i];
}

void lk_add_neon(const float *a, const float *b, float *out, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(out + i, vaddq_f32(vld1q_f32(a + i), vld1q_f32(b + i)));
  for (; i < n; i++) out[i] = a[i] + b[i];
}

int lk_argmax_neon(const float *x, int n) {
  float32x4_t mv = vdupq_n_f32(-INFINITY);
  int i = 0;
  for (; i + 4 <= n; i += 4) mv = vmaxq_f32(mv, vld1q_f32(x + i));
  float mx = i ? vmaxvq_f32(mv) : -INFINITY;
  for (; i < n; i++) mx = x[i] > mx ? x[i] : mx;
  for (i = 0; i < n; i++) /* first index holding the maximum, like the twin */
    if (x[i] == mx) return i;
  return 0;
}

static inline float32x4_t ld4(const void *c, int f16, size_t i) {
  return f16 ? vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16((const uint16_t *)c + i))) : vld1q_f32((const float *)c + i);
}

void lk_attention_neon(const float *q, int ldq, int M, int pos0, const void *kc, const void *vc, int cache_f16,
                       int max_seq, int H, int Hkv, int hd, float scale, float *out, float *scratch) {
  int group = H / Hkv;
  for (int m = 0; m < M; m++)
    for (int h = 0; h < H; h++) {
      const float *qv = q + (size_t)m * ldq + (size_t)h * hd;
      size_t base = (size_t)(h / group) * max_seq * hd;
      int L = pos0 + m + 1;
      for (int j = 0; j < L; j++) {
        size_t kb = base + (size_t)j * hd;
        float32x4_t a = vdupq_n_f32(0.0f);
        int i = 0;
        for (; i + 4 <= hd; i += 4) a = vfmaq_f32(a, vld1q_f32(qv + i), ld4(kc, cache_f16, kb + i));
        float s = vaddvq_f32(a);
        for (; i < hd; i++) s += qv[i] * lk_cache_at(kc, cache_f16, kb + i);
        scratch[j] = s * scale;
      }
      lk_softmax_neon(scratch, L);
      float *o = out + ((size_t)m * H + h) * hd;
      int i = 0;
      for (; i + 4 <= hd; i += 4) {
        float32x4_t acc = vdupq_n_f32(0.0f);
        for (int j = 0; j < L; j++) acc = vfmaq_n_f32(acc, ld4(vc, cache_f16, base + (size_t)j * hd + i), scratch[j]);
        vst1q_f32(o + i, acc);
      }
      for (; i < hd; i++) {
        float acc = 0.0f;
        for (int j = 0; j < L; j++) acc += scratch[j] * lk_cache_at(vc, cache_f16, base + (size_t)j * hd + i);
        o[i] = acc;
      }
    }
}

void lk_embed_q8_neon(const int8_t *data, const float *scales, int K, const int32_t *ids, int n, float *out) {
  for (int r = 0; r < n; r++) {
    const int8_t *src = data + (size_t)ids[r] * K;
    float *o = out + (size_t)r * K, s = scales[ids[r]];
    int k = 0;
    for (; k + 8 <= K; k += 8) {
      int16x8_t v = vmovl_s8(vld1_s8(src + k));
      vst1q_f32(o + k, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(v))), s));
      vst1q_f32(o + k + 4, vmulq_n_f32(vcvtq_f32_s32(vmovl_high_s16(v)), s));
    }
    for (; k < K; k++) o[k] = (float)src[k] * s;
  }
}

void lk_embed_q4_neon(const uint8_t *data, const void *scales, int scale_f16, const uint8_t *zeros, int K, int G,
                      const int32_t *ids, int n, float *out) {
  int ng = (K + G - 1) / G;
  size_t rowbytes = (size_t)ng * G / 2;
  for (int r = 0; r < n; r++) {
    size_t row = (size_t)ids[r];
    const uint8_t *src = data + row * rowbytes;
    for (int g = 0; g < ng; g++) {
      size_t gi = row * ng + g;
      float s = scale_f16 ? lk_f16_to_f32(((const uint16_t *)scales)[gi]) : ((const float *)scales)[gi];
      int16x8_t z = vdupq_n_s16(zeros ? zeros[gi] : 8);
      float tmp[128];
      for (int j = 0; j < G / 2; j += 16) { /* 16 bytes = 32 values, low nibble = even k */
        uint8x16_t b = vld1q_u8(src + (size_t)g * G / 2 + j);
        uint8x16_t lo = vandq_u8(b, vdupq_n_u8(15)), hi = vshrq_n_u8(b, 4);
        uint8x16_t v[2] = {vzip1q_u8(lo, hi), vzip2q_u8(lo, hi)};
        for (int h = 0; h < 2; h++) {
          int16x8_t a = vsubq_s16(vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(v[h]))), z);
          int16x8_t c = vsubq_s16(vreinterpretq_s16_u16(vmovl_high_u8(v[h])), z);
          float *t = tmp + 2 * j + 16 * h;
          vst1q_f32(t, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(a))), s));
          vst1q_f32(t + 4, vmulq_n_f32(vcvtq_f32_s32(vmovl_high_s16(a)), s));
          vst1q_f32(t + 8, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(c))), s));
          vst1q_f32(t + 12, vmulq_n_f32(vcvtq_f32_s32(vmovl_high_s16(c)), s));
        }
      }
      int cnt = K - g * G < G ? K - g * G : G;
      memcpy(out + (size_t)r * K + (size_t)g * G, tmp, (size_t)cnt * sizeof(float));
    }
  }
}

void lk_embed_f16_neon(const uint16_t *data, int K, const int32_t *ids, int n, float *out) {
  for (int r = 0; r < n; r++) {
    const uint16_t *src = data + (size_t)ids[r] * K;
    float *o = out + (size_t)r * K;
    int k = 0;
    for (; k + 4 <= K; k += 4) vst1q_f32(o + k, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(src + k))));
    for (; k < K; k++) o[k] = lk_f16_to_f32(src[k]);
  }
}
