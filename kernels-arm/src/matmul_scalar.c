/* Scalar twins of the matrix kernels: portable C over the same packed bytes and the same
 * activation quantization rule as the NEON paths, with fused multiply-adds in the same order,
 * so the fast paths are checked against this file almost bit for bit. */
#include "lk_internal.h"
#include <math.h>

static void quant_act_scalar(const float *x, int M, int K, int Kp, int8_t *qa, float *as, float *asum) {
  int nb = Kp / LK_KB;
  for (int t = 0; t < M; t++)
    for (int b = 0; b < nb; b++) {
      float amax = 0.0f;
      for (int kk = 0; kk < LK_KB; kk++) {
        int k = b * LK_KB + kk;
        float v = k < K ? fabsf(x[(size_t)t * K + k]) : 0.0f;
        amax = v > amax ? v : amax;
      }
      float id = lk_act_inv_scale(amax);
      int sum = 0;
      for (int kk = 0; kk < LK_KB; kk++) {
        int k = b * LK_KB + kk;
        float v = k < K ? x[(size_t)t * K + k] : 0.0f;
        int q = (int)rintf(v * id);
        qa[(size_t)t * Kp + k] = (int8_t)q;
        sum += q;
      }
      float s = lk_act_scale(amax);
      as[(size_t)t * nb + b] = s;
      asum[(size_t)t * nb + b] = s * (float)sum;
    }
}

static float q4_scale(const lk_matrix *w, const uint8_t *gh, int r) {
  if (w->scale_f16) { uint16_t h; memcpy(&h, gh + 2 * r, 2); return lk_f16_to_f32(h); }
  return lk_ldf(gh + 4 * r);
}

static void matmul_q4_scalar(const lk_matrix *w, const float *x, int M, float *y, void *work) {
  int nb = w->Kp / LK_KB, bpg = w->G / LK_KB, N = w->N;
  int8_t *qa = (int8_t *)work;
  float *as = (float *)((uint8_t *)work + (size_t)M * w->Kp), *asum = as + (size_t)M * nb;
  quant_act_scalar(x, M, w->K, w->Kp, qa, as, asum);
  size_t sbytes = (size_t)LK_NR * (w->scale_f16 ? 2 : 4);
  for (int n0 = 0; n0 < N; n0 += LK_NR) {
    const uint8_t *panel = w->data + (size_t)(n0 / LK_NR) * w->panel_bytes;
    for (int r = 0; r < LK_NR && n0 + r < N; r++)
      for (int t = 0; t < M; t++) {
        float acc = 0.0f;
        for (int g = 0; g < w->ngroups; g++) {
          const uint8_t *gh = panel + (size_t)g * w->group_bytes;
          float d = q4_scale(w, gh, r), mo = w->sym ? 0.0f : lk_ldf(gh + sbytes + 4 * r);
          for (int sb = 0; sb < bpg; sb++) {
            int b = g * bpg + sb, isum = 0;
            for (int kk = 0; kk < LK_KB; kk++) {
              int k = b * LK_KB + kk, high;
              uint8_t byte = panel[lk_q4_nibble_offset(w, r, k, &high)];
              int nib = high ? byte >> 4 : byte & 15;
              int q = nib >= 8 ? nib - 16 : nib; /* stored q ^ 8 read as signed 4-bit = q - 8 */
              isum += q * qa[(size_t)t * w->Kp + k];
            }
            acc = fmaf((float)isum, d * as[(size_t)t * nb + b], acc);
            if (!w->sym) acc = fmaf(mo, asum[(size_t)t * nb + b], acc);
          }
        }
        y[(size_t)t * N + n0 + r] = acc;
      }
  }
}

static void matmul_q8_scalar(const lk_matrix *w, const float *x, int M, float *y, void *work) {
  int nb = w->Kp / LK_KB, N = w->N;
  int8_t *qa = (int8_t *)work;
  float *as = (float *)((uint8_t *)work + (size_t)M * w->Kp), *asum = as + (size_t)M * nb;
  quant_act_scalar(x, M, w->K, w->Kp, qa, as, asum);
  for (int n0 = 0; n0 < N; n0 += LK_NR) {
    const uint8_t *panel = w->data + (size_t)(n0 / LK_NR) * w->panel_bytes;
    for (int r = 0; r < LK_NR && n0 + r < N; r++)
      for (int t = 0; t < M; t++) {
        float acc = 0.0f;
        for (int b = 0; b < nb; b++) {
          int isum = 0;
          for (int kk = 0; kk < LK_KB; kk++) {
            int k = b * LK_KB + kk;
            isum += (int8_t)panel[lk_q8_offset(r, k)] * qa[(size_t)t * w->Kp + k];
          }
          acc = fmaf((float)isum, as[(size_t)t * nb + b], acc);
        }
        y[(size_t)t * N + n0 + r] = acc * lk_ldf(panel + 4 * r);
      }
  }
}

static void matmul_float_scalar(const lk_matrix *w, const float *x, int M, float *y) {
  int N = w->N, K = w->K;
  for (int n0 = 0; n0 < N; n0 += LK_NR) {
    const uint8_t *panel = w->data + (size_t)(n0 / LK_NR) * w->panel_bytes;
    for (int r = 0; r < LK_NR && n0 + r < N; r++)
      for (int t = 0; t < M; t++) {
        float acc = 0.0f;
        for (int k = 0; k < K; k++) {
          size_t i = (size_t)k * LK_NR + r;
          float wv;
          if (w->type == LK_W_F16) { uint16_t h; memcpy(&h, panel + 2 * i, 2); wv = lk_f16_to_f32(h); }
          else wv = lk_ldf(panel + 4 * i);
          acc = fmaf(wv, x[(size_t)t * K + k], acc);
        }
        y[(size_t)t * N + n0 + r] = acc;
      }
  }
}

void lk_matmul_scalar(const lk_matrix *w, const float *x, int M, float *y, void *work) {
  switch (w->type) {
    case LK_W_Q4: matmul_q4_scalar(w, x, M, y, work); break;
    case LK_W_Q8: matmul_q8_scalar(w, x, M, y, work); break;
    default: matmul_float_scalar(w, x, M, y); break;
  }
}
