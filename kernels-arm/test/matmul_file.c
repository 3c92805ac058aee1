/* File-driven matmul for the TS contract test: plain-layout weight files (as compiler/ir/quantized.ts
 * lays them out) + activations in, y from every path this CPU has out.
 *   lk_matmul_file <q4|q8|f16|f32> N K G sym(0|1) f16scales(0|1) M dir
 * reads dir/data.bin, dir/scales.bin, dir/zeros.bin (q4 asym), dir/x.bin (f32 [M][K]);
 * writes dir/y_<path>.bin (f32 [M][N]) for scalar and every supported fast path. */
#include "lk.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *slurp(const char *dir, const char *name, size_t want) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "rb");
  if (!f) { fprintf(stderr, "cannot open %s\n", path); exit(1); }
  void *buf = malloc(want ? want : 1);
  if (fread(buf, 1, want, f) != want) { fprintf(stderr, "short read %s\n", path); exit(1); }
  fclose(f);
  return buf;
}

int main(int argc, char **argv) {
  if (argc != 9) { fprintf(stderr, "usage: lk_matmul_file type N K G sym f16scales M dir\n"); return 2; }
  const char *t = argv[1], *dir = argv[8];
  int N = atoi(argv[2]), K = atoi(argv[3]), G = atoi(argv[4]), sym = atoi(argv[5]), sf16 = atoi(argv[6]), M = atoi(argv[7]);
  lk_matrix m;
  int rc;
  if (!strcmp(t, "q4")) {
    int ng = (K + G - 1) / G;
    rc = lk_pack_q4(&m, slurp(dir, "data.bin", (size_t)N * ng * G / 2), slurp(dir, "scales.bin", (size_t)N * ng * (sf16 ? 2 : 4)),
                    sf16, sym ? NULL : slurp(dir, "zeros.bin", (size_t)N * ng), N, K, G);
  } else if (!strcmp(t, "q8")) {
    rc = lk_pack_q8(&m, slurp(dir, "data.bin", (size_t)N * K), slurp(dir, "scales.bin", (size_t)N * (sf16 ? 2 : 4)), sf16, N, K);
  } else if (!strcmp(t, "f16")) {
    rc = lk_pack_f16(&m, slurp(dir, "data.bin", (size_t)N * K * 2), N, K);
  } else {
    rc = lk_pack_f32(&m, slurp(dir, "data.bin", (size_t)N * K * 4), N, K);
  }
  if (rc) { fprintf(stderr, "pack failed\n"); return 1; }
  float *x = slurp(dir, "x.bin", (size_t)M * K * 4), *y = malloc((size_t)M * N * 4);
  void *work = aligned_alloc(64, (lk_matmul_work_bytes(&m, M) + 63) & ~(size_t)63);
  for (int p = LK_PATH_SCALAR; p <= (int)lk_detect_path(); p++) {
    lk_matmul_for((lk_path)p)(&m, x, M, y, work);
    char path[1024];
    snprintf(path, sizeof path, "%s/y_%s.bin", dir, lk_path_name((lk_path)p));
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(y, 4, (size_t)M * N, f) != (size_t)M * N) { fprintf(stderr, "cannot write %s\n", path); return 1; }
    fclose(f);
    printf("%s\n", lk_path_name((lk_path)p));
  }
  return 0;
}
