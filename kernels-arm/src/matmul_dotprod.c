/* SDOT path (armv8.2-a+dotprod): 16 int8 MACs per instruction on the shared 2x8 layout. */
#include "neon_common.h"

void lk_matmul_dotprod(const lk_matrix *w, const float *x, int M, float *y, void *work) {
  if (w->type == LK_W_F16 || w->type == LK_W_F32) { matmul_float_neon(w, x, M, y); return; }
  int nb = w->Kp / LK_KB;
  lk_act act = lk_act_view(work, M, nb);
  quant_act_neon(x, M, w->K, w->Kp, act, 0, w->type == LK_W_Q4 ? 1.0f / 16.0f : 1.0f);
  if (w->type == LK_W_Q4) { LK_TILE_LOOP(q4_sdot_tile, 2) }
  else { LK_TILE_LOOP(q8_sdot_tile, 2) }
}
