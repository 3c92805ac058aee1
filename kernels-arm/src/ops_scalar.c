/* Scalar twins of the decoder ops (the reference the NEON versions are tested against). */
#include "lk_internal.h"
#include <math.h>

void lk_rmsnorm_scalar(const float *x, const float *w, float *out, int rows, int n, float eps) {
  for (int r = 0; r < rows; r++) {
    const float *xr = x + (size_t)r * n;
    float ss = 0.0f;
    for (int i = 0; i < n; i++) ss += xr[i] * xr[i];
    float inv = 1.0f / sqrtf(ss / (float)n + eps);
    for (int i = 0; i < n; i++) out[(size_t)r * n + i] = xr[i] * inv * w[i];
  }
}

void lk_rope_scalar(float *x, int ld, int M, int H, int hd, const float *cos_t, const float *sin_t) {
  int h2 = hd / 2;
  for (int m = 0; m < M; m++) {
    const float *c = cos_t + (size_t)m * h2, *s = sin_t + (size_t)m * h2;
    for (int h = 0; h < H; h++) {
      float *v = x + (size_t)m * ld + (size_t)h * hd;
      for (int i = 0; i < h2; i++) {
        float a = v[i], b = v[i + h2];
        v[i] = a * c[i] - b * s[i];
        v[i + h2] = b * c[i] + a * s[i];
      }
    }
  }
}

void lk_softmax_scalar(float *x, int n) {
  float mx = -INFINITY, sum = 0.0f;
  for (int i = 0; i < n; i++) mx = x[i] > mx ? x[i] : mx;
  for (int i = 0; i < n; i++) { x[i] = expf(x[i] - mx); sum += x[i]; }
  float inv = 1.0f / sum;
  for (int i = 0; i < n; i++) x[i] *= inv;
}

void lk_swiglu_scalar(const float *g, const float *u, float *out, int n) {
  for (int i = 0; i < n; i++) out[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

void lk_add_scalar(const float *a, const float *b, float *out, int n) {
  for (int i = 0; i < n; i++) out[i] = a[i] + b[i];
}

int lk_argmax_scalar(const float *x, int n) {
  int best = 0;
  for (int i = 1; i < n; i++)
    if (x[i] > x[best]) best = i;
  return best;
}

void lk_attention_scalar(const float *q, int ldq, int M, int pos0, const void *kc, const void *vc, int cache_f16,
                         int max_seq, int H, int Hkv, int hd, float scale, float *out, float *scratch) {
  int group = H / Hkv;
  for (int m = 0; m < M; m++)
    for (int h = 0; h < H; h++) {
      const float *qv = q + (size_t)m * ldq + (size_t)h * hd;
      size_t base = (size_t)(h / group) * max_seq * hd;
      int L = pos0 + m + 1; /* causal: this token sees positions 0..pos0+m */
      for (int j = 0; j < L; j++) {
        float s = 0.0f;
        for (int i = 0; i < hd; i++) s += qv[i] * lk_cache_at(kc, cache_f16, base + (size_t)j * hd + i);
        scratch[j] = s * scale;
      }
      lk_softmax_scalar(scratch, L);
      float *o = out + ((size_t)m * H + h) * hd;
      for (int i = 0; i < hd; i++) o[i] = 0.0f;
      for (int j = 0; j < L; j++)
        for (int i = 0; i < hd; i++) o[i] += scratch[j] * lk_cache_at(vc, cache_f16, base + (size_t)j * hd + i);
    }
}

void lk_embed_q8_scalar(const int8_t *data, const float *scales, int K, const int32_t *ids, int n, float *out) {
  for (int i = 0; i < n; i++)
    for (int k = 0; k < K; k++) out[(size_t)i * K + k] = (float)data[(size_t)ids[i] * K + k] * scales[ids[i]];
}

void lk_embed_q4_scalar(const uint8_t *data, const void *scales, int scale_f16, const uint8_t *zeros, int K, int G,
                        const int32_t *ids, int n, float *out) {
  int ng = (K + G - 1) / G;
  size_t rowbytes = (size_t)ng * G / 2;
  for (int i = 0; i < n; i++) {
    size_t row = (size_t)ids[i];
    for (int k = 0; k < K; k++) {
      size_t gi = row * ng + k / G;
      uint8_t byte = data[row * rowbytes + k / 2];
      int q = (k & 1) ? byte >> 4 : byte & 15;
      int z = zeros ? zeros[gi] : 8;
      float s = scale_f16 ? lk_f16_to_f32(((const uint16_t *)scales)[gi]) : ((const float *)scales)[gi];
      out[(size_t)i * K + k] = (float)(q - z) * s;
    }
  }
}

void lk_embed_f16_scalar(const uint16_t *data, int K, const int32_t *ids, int n, float *out) {
  for (int i = 0; i < n; i++)
    for (int k = 0; k < K; k++) out[(size_t)i * K + k] = lk_f16_to_f32(data[(size_t)ids[i] * K + k]);
}

/* Not path-dependent (libm on one value per frequency and token): one version for every path. */
void lk_rope_tables(const float *inv_freq, int half, const int32_t *positions, int M, float *cos_t, float *sin_t) {
  for (int m = 0; m < M; m++)
    for (int i = 0; i < half; i++) {
      volatile float angle = (float)positions[m] * inv_freq[i]; /* one float32 rounding, never contracted */
      cos_t[(size_t)m * half + i] = (float)cos((double)angle);
      sin_t[(size_t)m * half + i] = (float)sin((double)angle);
    }
}

void lk_kv_store(void *cache, int cache_f16, int max_seq, int Hkv, int hd, int pos0, const float *src, int ld, int M) {
  for (int m = 0; m < M; m++)
    for (int h = 0; h < Hkv; h++) {
      const float *s = src + (size_t)m * ld + (size_t)h * hd;
      size_t dst = ((size_t)h * max_seq + (size_t)(pos0 + m)) * hd;
      if (cache_f16)
        for (int i = 0; i < hd; i++) ((uint16_t *)cache)[dst + i] = lk_f32_to_f16(s[i]);
      else
        memcpy((float *)cache + dst, s, (size_t)hd * sizeof(float));
    }
}
