/* Host-side front end of the reference packers (src/pack.c is portable C): plain-layout files in,
 * repacked bytes out, so the compiler can test the bytes it emits against this one.
 *   lk_pack q4 N K G f16|f32 data.bin scales.bin zeros.bin|- out.bin
 *   lk_pack q8 N K f16|f32 data.bin scales.bin out.bin
 *   lk_pack f16|f32 N K data.bin out.bin
 * Files are raw little-endian arrays in the plain layout of compiler/ir/quantized.ts
 * (scales as IEEE half when f16). Prints the packed byte count. */
#include "lk.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *slurp(const char *path, size_t want) {
  FILE *f = fopen(path, "rb");
  if (!f) { fprintf(stderr, "lk_pack: cannot open %s\n", path); exit(1); }
  void *buf = malloc(want ? want : 1);
  size_t got = fread(buf, 1, want, f);
  int extra = fgetc(f) != EOF;
  fclose(f);
  if (got != want || extra) { fprintf(stderr, "lk_pack: %s has the wrong size (want %zu bytes)\n", path, want); exit(1); }
  return buf;
}

int main(int argc, char **argv) {
  if (argc < 5) { fprintf(stderr, "usage: see the comment in kernels-arm/tools/lk_pack.c\n"); return 2; }
  const char *t = argv[1];
  int N = atoi(argv[2]), K = atoi(argv[3]), rc;
  const char *out;
  lk_matrix m;
  if (!strcmp(t, "q4") && argc == 10) {
    int G = atoi(argv[4]), sf16 = !strcmp(argv[5], "f16"), ng = (K + G - 1) / G;
    void *data = slurp(argv[6], (size_t)N * ng * G / 2), *sc = slurp(argv[7], (size_t)N * ng * (sf16 ? 2 : 4));
    void *z = strcmp(argv[8], "-") ? slurp(argv[8], (size_t)N * ng) : NULL;
    rc = lk_pack_q4(&m, data, sc, sf16, z, N, K, G);
    out = argv[9];
  } else if (!strcmp(t, "q8") && argc == 8) {
    int sf16 = !strcmp(argv[4], "f16");
    void *data = slurp(argv[5], (size_t)N * K), *sc = slurp(argv[6], (size_t)N * (sf16 ? 2 : 4));
    rc = lk_pack_q8(&m, data, sc, sf16, N, K);
    out = argv[7];
  } else if ((!strcmp(t, "f16") || !strcmp(t, "f32")) && argc == 6) {
    int f16 = !strcmp(t, "f16");
    void *data = slurp(argv[4], (size_t)N * K * (f16 ? 2 : 4));
    rc = f16 ? lk_pack_f16(&m, data, N, K) : lk_pack_f32(&m, data, N, K);
    out = argv[5];
  } else {
    fprintf(stderr, "lk_pack: bad arguments\n");
    return 2;
  }
  if (rc) { fprintf(stderr, "lk_pack: pack failed\n"); return 1; }
  FILE *f = fopen(out, "wb");
  if (!f || fwrite(m.data, 1, m.bytes, f) != m.bytes) { fprintf(stderr, "lk_pack: cannot write %s\n", out); return 1; }
  fclose(f);
  printf("%zu\n", m.bytes);
  return 0;
}
