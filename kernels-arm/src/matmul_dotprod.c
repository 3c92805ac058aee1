/* SDOT path (armv8.2-a+dotprod): 16 int8 MACs per instruction on the shared 2x8 layout. */
#include "neon_common.h"

LK_INLINE void q4_all(const lk_matrix *w, lk_act act, int M, int nb, float *y, const int SYM, const int F16, const int BPG) {
  if (M == 1) {
    for (int n0 = 0; n0 < w->N; n0 += LK_NR)
      q4_sdot_gemv(w, w->data + (size_t)(n0 / LK_NR) * w->panel_bytes, act, nb, y, n0, SYM, F16, BPG);
    return;
  }
  LK_TILE_LOOP(q4_sdot_tile, 4, , SYM, F16, BPG)
}

void lk_matmul_dotprod(const lk_matrix *w, const float *x, int M, float *y, void *work) {
  if (w->type == LK_W_F16 || w->type == LK_W_F32) { matmul_float_neon(w, x, M, y); return; }
  int nb = w->Kp / LK_KB;
  lk_act act = lk_act_view(work, M, nb);
  quant_act_neon(x, M, w->K, w->Kp, act, 0, w->type == LK_W_Q4 ? 1.0f / 16.0f : 1.0f);
  if (w->type == LK_W_Q4) LK_Q4_SPECIALIZE(q4_all, w, act, M, nb, y);
  else if (M == 1) {
    for (int n0 = 0; n0 < w->N; n0 += LK_NR) q8_sdot_gemv(w, w->data + (size_t)(n0 / LK_NR) * w->panel_bytes, act, nb, y, n0);
  } else { LK_TILE_LOOP(q8_sdot_tile, 4) }
}
