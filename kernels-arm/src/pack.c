/* Reference packers: the compiler's plain layout -> the repacked layout every path streams.
 * Portable C on purpose: the compiler can emit identical bytes and test against this file. */
#include "lk_internal.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

uint16_t lk_f32_to_f16(float f) {
  uint32_t x; memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000u, e = (x >> 23) & 0xffu, man = x & 0x7fffffu;
  if (e == 0xff) return (uint16_t)(sign | 0x7c00u | (man ? 0x200u : 0));
  int ee = (int)e - 127 + 15;
  if (ee >= 31) return (uint16_t)(sign | 0x7c00u);
  if (ee <= 0) { /* subnormal half (or zero) */
    if (ee < -10) return (uint16_t)sign;
    man |= 0x800000u;
    int shift = 14 - ee;
    uint32_t h = man >> shift, rem = man & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (h & 1))) h++;
    return (uint16_t)(sign | h);
  }
  uint32_t h = ((uint32_t)ee << 10) | (man >> 13), rem = man & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1))) h++; /* carry into the exponent is correct */
  return (uint16_t)(sign | h);
}

float lk_f16_to_f32(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, man = h & 0x3ffu, x;
  if (e == 0) {
    if (!man) x = sign;
    else { /* normalise the subnormal */
      e = 127 - 15 + 1;
      while (!(man & 0x400u)) { man <<= 1; e--; }
      x = sign | (e << 23) | ((man & 0x3ffu) << 13);
    }
  } else if (e == 31) x = sign | 0x7f800000u | (man << 13);
  else x = sign | ((e + 127 - 15) << 23) | (man << 13);
  float f; memcpy(&f, &x, 4);
  return f;
}

static float scale_at(const void *scales, int f16, size_t i) {
  return f16 ? lk_f16_to_f32(((const uint16_t *)scales)[i]) : ((const float *)scales)[i];
}

void lk_matrix_free(lk_matrix *m) {
  free(m->data);
  m->data = NULL;
}

static int alloc_panels(lk_matrix *m, int N) {
  m->bytes = (size_t)((N + LK_NR - 1) / LK_NR) * m->panel_bytes;
  m->data = (uint8_t *)aligned_alloc(64, (m->bytes + 63) & ~(size_t)63);
  if (!m->data) return -1;
  memset(m->data, 0, m->bytes);
  return 0;
}

int lk_pack_q4(lk_matrix *m, const uint8_t *data, const void *scales, int scale_f16, const uint8_t *zeros, int N,
               int K, int G) {
  if (N <= 0 || K <= 0 || (G != 32 && G != 64 && G != 128)) return -1;
  memset(m, 0, sizeof *m);
  m->type = LK_W_Q4; m->N = N; m->K = K; m->G = G;
  m->ngroups = (K + G - 1) / G;
  m->Kp = m->ngroups * G;
  m->sym = zeros == NULL;
  m->scale_f16 = scale_f16 != 0;
  size_t hdr = lk_q4_header_bytes(m->scale_f16, m->sym);
  m->group_bytes = hdr + (size_t)(G / LK_KB) * LK_Q4_BLOCK_BYTES;
  m->panel_bytes = (size_t)m->ngroups * m->group_bytes;
  if (alloc_panels(m, N)) return -1;
  size_t rowbytes = (size_t)m->Kp / 2;
  for (int n0 = 0; n0 < N; n0 += LK_NR) {
    uint8_t *panel = m->data + (size_t)(n0 / LK_NR) * m->panel_bytes;
    for (int r = 0; r < LK_NR; r++) {
      int n = n0 + r;
      for (int g = 0; g < m->ngroups; g++) {
        uint8_t *gh = panel + (size_t)g * m->group_bytes;
        /* Padding rows: scale 0 and q = 8 (stored nibble 0), so they contribute exactly 0. */
        float d = 0.0f, mo = 0.0f;
        if (n < N) {
          d = scale_at(scales, m->scale_f16, (size_t)n * m->ngroups + g);
          if (!m->sym) mo = (float)(8 - (int)zeros[(size_t)n * m->ngroups + g]) * d;
        }
        if (m->scale_f16) {
          uint16_t h = n < N ? ((const uint16_t *)scales)[(size_t)n * m->ngroups + g] : 0;
          memcpy(gh + 2 * r, &h, 2);
        } else {
          memcpy(gh + 4 * r, &d, 4);
        }
        if (!m->sym) memcpy(gh + (size_t)LK_NR * (m->scale_f16 ? 2 : 4) + 4 * r, &mo, 4);
      }
      if (n >= N) continue;
      for (int k = 0; k < m->Kp; k++) {
        uint8_t byte = data[(size_t)n * rowbytes + (size_t)(k >> 1)];
        uint8_t q = (k & 1) ? (byte >> 4) : (byte & 15);
        /* Stored as q ^ 8: the nibble read as signed 4-bit is q - 8. */
        int high;
        size_t off = lk_q4_nibble_offset(m, r, k, &high);
        panel[off] |= (uint8_t)(((q ^ 8) & 15) << (high ? 4 : 0));
      }
    }
  }
  return 0;
}

int lk_pack_q8(lk_matrix *m, const int8_t *data, const void *scales, int scale_f16, int N, int K) {
  if (N <= 0 || K <= 0) return -1;
  memset(m, 0, sizeof *m);
  m->type = LK_W_Q8; m->N = N; m->K = K; m->G = LK_KB;
  m->Kp = (K + LK_KB - 1) / LK_KB * LK_KB;
  m->ngroups = m->Kp / LK_KB;
  m->sym = 1;
  m->scale_f16 = 0; /* per-channel scales are widened to f32: N floats, negligible */
  m->panel_bytes = LK_Q8_HEADER_BYTES + (size_t)(m->Kp / LK_KB) * LK_Q8_BLOCK_BYTES;
  if (alloc_panels(m, N)) return -1;
  for (int n = 0; n < N; n++) {
    uint8_t *panel = m->data + (size_t)(n / LK_NR) * m->panel_bytes;
    int r = n % LK_NR;
    float d = scale_at(scales, scale_f16, (size_t)n);
    memcpy(panel + 4 * r, &d, 4);
    for (int k = 0; k < K; k++) panel[lk_q8_offset(r, k)] = (uint8_t)data[(size_t)n * K + k];
  }
  return 0;
}

/* f16/f32: panels of LK_NR rows stored k-major (the LK_NR values of one k side by side), so one
 * vector load feeds a multiply-by-element per activation value. */
static int pack_float(lk_matrix *m, lk_wtype t, const void *w, int N, int K) {
  if (N <= 0 || K <= 0) return -1;
  memset(m, 0, sizeof *m);
  m->type = t; m->N = N; m->K = K; m->Kp = K; m->G = K; m->ngroups = 1; m->sym = 1;
  size_t es = t == LK_W_F16 ? 2 : 4;
  m->panel_bytes = (size_t)LK_NR * K * es;
  if (alloc_panels(m, N)) return -1;
  for (int n = 0; n < N; n++) {
    uint8_t *panel = m->data + (size_t)(n / LK_NR) * m->panel_bytes;
    for (int k = 0; k < K; k++)
      memcpy(panel + ((size_t)k * LK_NR + n % LK_NR) * es, (const uint8_t *)w + ((size_t)n * K + k) * es, es);
  }
  return 0;
}
int lk_pack_f16(lk_matrix *m, const uint16_t *w, int N, int K) { return pack_float(m, LK_W_F16, w, N, K); }
int lk_pack_f32(lk_matrix *m, const float *w, int N, int K) { return pack_float(m, LK_W_F32, w, N, K); }

size_t lk_matmul_work_bytes(const lk_matrix *w, int M) {
  if (w->type == LK_W_F16 || w->type == LK_W_F32) return 16;
  size_t nb = (size_t)w->Kp / LK_KB;
  return (size_t)(M + 1) * nb * LK_WORK_BYTES_PER_TOKEN_BLOCK + 64;
}

/* The inverse of the packers for one row. int4 zero points are recovered from the stored offset
 * m = (8 - zero) * scale as an integer, so the value is float(q - zero) * scale rounded once, the
 * plain layout's dequantized value exactly. */
void lk_matrix_row(const lk_matrix *w, int n, float *out) {
  const uint8_t *panel = w->data + (size_t)(n / LK_NR) * w->panel_bytes;
  int r = n % LK_NR;
  if (w->type == LK_W_F32 || w->type == LK_W_F16) {
    for (int k = 0; k < w->K; k++) {
      const uint8_t *p = panel + ((size_t)k * LK_NR + r) * (w->type == LK_W_F16 ? 2 : 4);
      if (w->type == LK_W_F32) out[k] = lk_ldf(p);
      else { uint16_t h; memcpy(&h, p, 2); out[k] = lk_f16_to_f32(h); }
    }
    return;
  }
  if (w->type == LK_W_Q8) {
    float d = lk_ldf(panel + 4 * r);
    for (int k = 0; k < w->K; k++) out[k] = (float)(int8_t)panel[lk_q8_offset(r, k)] * d;
    return;
  }
  size_t sbytes = (size_t)LK_NR * (w->scale_f16 ? 2 : 4);
  for (int g = 0; g < w->ngroups; g++) {
    const uint8_t *gh = panel + (size_t)g * w->group_bytes;
    float d;
    if (w->scale_f16) { uint16_t h; memcpy(&h, gh + 2 * r, 2); d = lk_f16_to_f32(h); }
    else d = lk_ldf(gh + 4 * r);
    int shift = 0; /* 8 - zero */
    if (!w->sym && d != 0.0f) shift = (int)rintf(lk_ldf(gh + sbytes + 4 * r) / d);
    for (int k = g * w->G; k < (g + 1) * w->G && k < w->K; k++) {
      int high;
      uint8_t byte = panel[lk_q4_nibble_offset(w, r, k, &high)];
      int nib = high ? byte >> 4 : byte & 15;
      int q8 = nib >= 8 ? nib - 16 : nib; /* q - 8 */
      out[k] = (float)(q8 + shift) * d;
    }
  }
}
