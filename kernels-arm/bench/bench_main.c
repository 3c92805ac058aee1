/* kernels-arm bench driver (not a test): builds a weight in the plain layout, packs it, then calls
 * lk_matmul `calls` times on the path forced by LK_PATH. Run under qemu with the instruction-count
 * plugin; bench/kernels-arm.ts subtracts a calls=0 run so setup cancels exactly.
 *   lk_bench <int4|int8|f16|f32> <M> <calls> [N K]
 * int4 is symmetric, groups of 32, f16 scales (llama.cpp Q4_0's layout); int8 per channel. */
#include "lk.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t s = 0x2545f4914f6cdd1dull;
static uint64_t next(void) { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return s; }

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: lk_bench <int4|int8|f16|f32> <M> <calls> [N K]\n"); return 2; }
  const char *type = argv[1];
  int M = atoi(argv[2]), calls = atoi(argv[3]);
  int N = argc > 5 ? atoi(argv[4]) : 4096, K = argc > 5 ? atoi(argv[5]) : 4096;
  lk_path path = lk_active_path();
  lk_matrix w;
  int rc;
  if (!strcmp(type, "int4")) {
    int ng = (K + 31) / 32;
    size_t rb = (size_t)ng * 16;
    uint8_t *q = malloc((size_t)N * rb);
    uint16_t *sc = malloc((size_t)N * ng * 2);
    for (size_t i = 0; i < (size_t)N * rb; i += 8) { uint64_t v = next(); memcpy(q + i, &v, 8); }
    for (size_t i = 0; i < (size_t)N * ng; i++) sc[i] = lk_f32_to_f16(0.001f + (float)(next() % 1000) * 1e-5f);
    rc = lk_pack_q4(&w, q, sc, 1, NULL, N, K, 32);
    free(q); free(sc);
  } else if (!strcmp(type, "int8")) {
    int8_t *q = malloc((size_t)N * K);
    uint16_t *sc = malloc((size_t)N * 2);
    for (size_t i = 0; i < (size_t)N * K; i++) q[i] = (int8_t)((int)(next() % 255) - 127);
    for (int i = 0; i < N; i++) sc[i] = lk_f32_to_f16(0.001f + (float)(next() % 1000) * 1e-5f);
    rc = lk_pack_q8(&w, q, sc, 1, N, K);
    free(q); free(sc);
  } else {
    int f16 = !strcmp(type, "f16");
    if (f16) {
      uint16_t *v = malloc((size_t)N * K * 2);
      for (size_t i = 0; i < (size_t)N * K; i++) v[i] = (uint16_t)(0x2000 + next() % 0x1000); /* small normal halves */
      rc = lk_pack_f16(&w, v, N, K);
      free(v);
    } else {
      float *v = malloc((size_t)N * K * 4);
      for (size_t i = 0; i < (size_t)N * K; i++) v[i] = (float)(next() % 2001) * 1e-3f - 1.0f;
      rc = lk_pack_f32(&w, v, N, K);
      free(v);
    }
  }
  if (rc) { fprintf(stderr, "pack failed\n"); return 1; }
  float *x = malloc((size_t)M * K * 4), *y = malloc((size_t)M * N * 4);
  for (size_t i = 0; i < (size_t)M * K; i++) x[i] = (float)(next() % 2001) * 1e-3f - 1.0f;
  void *work = aligned_alloc(64, (lk_matmul_work_bytes(&w, M) + 63) & ~(size_t)63);
  memset(y, 0, (size_t)M * N * 4);
  for (int c = 0; c < calls; c++) lk_matmul(&w, x, M, y, work);
  double sum = 0; /* keep the result observable */
  for (size_t i = 0; i < (size_t)M * N; i++) sum += y[i];
  printf("path=%s type=%s M=%d N=%d K=%d calls=%d checksum=%.6g\n", lk_path_name(path), type, M, N, K, calls, sum);
  return 0;
}
