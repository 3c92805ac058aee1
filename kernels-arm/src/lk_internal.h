/* Internal layout constants shared by the packers, the scalar twins and the NEON paths. */
#ifndef LK_INTERNAL_H
#define LK_INTERNAL_H
#include "lk.h"
#include <string.h>

/* Activation workspace of the int paths (one token "pair" = two tokens interleaved 8 k at a time,
 * the SMMLA operand order; decode paths pair a token with itself, which is also what SDOT and
 * SMULL want: the same 8 activations beside each of the two rows of a weight chunk).
 *   qa   int8  [npairs][nb][64]: chunk c (k 8c..8c+7) as [tokA 8 bytes][tokB 8 bytes]
 *   AS   float [npairs][nb][4]:  [sA, sB, sA, sB]  (activation scale, times a path factor)
 *   ASUM float [npairs][nb][4]:  [sumA, sumB, sumA, sumB]  (true scale * sum of q, for zero points)
 * The scalar twin keeps its own plain form inside the same byte budget. */
#define LK_ACT_PAIR_BYTES 64
#define LK_WORK_BYTES_PER_TOKEN_BLOCK 96

typedef struct {
  int8_t *qa;
  float *as;
  float *asum;
} lk_act;

static inline lk_act lk_act_view(void *work, int npairs, int nb) {
  lk_act a;
  a.qa = (int8_t *)work;
  a.as = (float *)((uint8_t *)work + (size_t)npairs * nb * LK_ACT_PAIR_BYTES);
  a.asum = a.as + (size_t)npairs * nb * 4;
  return a;
}

/* q4 group header: LK_NR scales (f16 or f32), then for zero points LK_NR f32 offsets
 * m = (8 - zero) * scale, so value = (q - 8) * scale + m. */
static inline size_t lk_q4_header_bytes(int scale_f16, int sym) {
  return (size_t)LK_NR * (scale_f16 ? 2 : 4) + (sym ? 0 : (size_t)LK_NR * 4);
}
/* q4 data per k block of 32 per panel: 4 row pairs x 2 registers x 16 bytes. */
#define LK_Q4_BLOCK_BYTES 128
/* q8 panel: LK_NR f32 scales, then per k block 4 row pairs x 4 chunks x 16 bytes. */
#define LK_Q8_HEADER_BYTES 32
#define LK_Q8_BLOCK_BYTES 256

/* Quantize one activation block of 32 floats: the rule every path uses, bit for bit. */
static inline float lk_act_inv_scale(float amax) { return amax > 0.0f ? 127.0f / amax : 0.0f; }
static inline float lk_act_scale(float amax) { return amax / 127.0f; }

/* Offset of packed q4 nibble (row r in panel, k) inside a panel: used by the scalar twin. */
static inline size_t lk_q4_nibble_offset(const lk_matrix *w, int r, int k, int *high) {
  int g = k / w->G, sb = (k % w->G) / LK_KB, kk = k % LK_KB;
  int c = kk / 8, i = kk % 8, p = r / 2, j = c % 2;
  *high = c / 2;
  return (size_t)g * w->group_bytes + lk_q4_header_bytes(w->scale_f16, w->sym) + (size_t)sb * LK_Q4_BLOCK_BYTES +
         (size_t)p * 32 + (size_t)j * 16 + (size_t)(r % 2) * 8 + (size_t)i;
}
static inline size_t lk_q8_offset(int r, int k) {
  int b = k / LK_KB, kk = k % LK_KB, c = kk / 8, i = kk % 8, p = r / 2;
  return LK_Q8_HEADER_BYTES + (size_t)b * LK_Q8_BLOCK_BYTES + (size_t)p * 64 + (size_t)c * 16 + (size_t)(r % 2) * 8 + (size_t)i;
}

static inline float lk_ldf(const void *p) { float f; memcpy(&f, p, 4); return f; }

/* element i of a KV cache stored as f16 bits or f32 */
static inline float lk_cache_at(const void *c, int f16, size_t i) {
  return f16 ? lk_f16_to_f32(((const uint16_t *)c)[i]) : ((const float *)c)[i];
}

#endif
