/* Run-time path selection: HWCAP bits, overridable with LK_PATH for tests and benchmarks. */
#include "lk.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif

#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1UL << 20)
#endif
#ifndef HWCAP2_I8MM
#define HWCAP2_I8MM (1UL << 13)
#endif

static const char *const names[LK_NPATHS] = {"scalar", "neon", "dotprod", "i8mm"};

const char *lk_path_name(lk_path p) { return (unsigned)p < LK_NPATHS ? names[p] : "?"; }

int lk_path_from_name(const char *s) {
  for (int i = 0; i < LK_NPATHS; i++)
    if (!strcmp(s, names[i])) return i;
  return -1;
}

lk_path lk_detect_path(void) {
#if defined(__aarch64__) && defined(__linux__)
  unsigned long hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2);
  /* i8mm cores all have dotprod; the SMMLA path also uses SDOT for decode. */
  if ((hw2 & HWCAP2_I8MM) && (hw & HWCAP_ASIMDDP)) return LK_PATH_I8MM;
  if (hw & HWCAP_ASIMDDP) return LK_PATH_DOTPROD;
  return LK_PATH_NEON; /* ASIMD is mandatory on AArch64 */
#else
  return LK_PATH_SCALAR;
#endif
}

lk_path lk_active_path(void) {
  static int cached = -1;
  if (cached >= 0) return (lk_path)cached;
  lk_path best = lk_detect_path();
  lk_path p = best;
  const char *env = getenv("LK_PATH");
  if (env && *env) {
    int f = lk_path_from_name(env);
    if (f < 0) {
      fprintf(stderr, "lk: unknown LK_PATH=%s, using %s\n", env, names[best]);
    } else if (f > (int)best) {
      /* Forcing an instruction the CPU lacks would be SIGILL: clamp instead. */
      fprintf(stderr, "lk: LK_PATH=%s not supported by this CPU, using %s\n", env, names[best]);
    } else {
      p = (lk_path)f;
    }
  }
  cached = (int)p;
  return p;
}

lk_matmul_fn lk_matmul_for(lk_path p) {
  switch (p) {
    case LK_PATH_I8MM: return lk_matmul_i8mm;
    case LK_PATH_DOTPROD: return lk_matmul_dotprod;
    case LK_PATH_NEON: return lk_matmul_neon;
    default: return lk_matmul_scalar;
  }
}

void lk_matmul(const lk_matrix *w, const float *x, int M, float *y, void *work) {
  lk_matmul_for(lk_active_path())(w, x, M, y, work);
}

#define LK_OP_DISPATCH(ret, name, params, args) \
  ret name params { return lk_active_path() >= LK_PATH_NEON ? name##_neon args : name##_scalar args; }

LK_OP_DISPATCH(void, lk_rmsnorm, (const float *x, const float *w, float *out, int rows, int n, float eps),
               (x, w, out, rows, n, eps))
LK_OP_DISPATCH(void, lk_rope, (float *x, int ld, int M, int H, int hd, const float *c, const float *s),
               (x, ld, M, H, hd, c, s))
LK_OP_DISPATCH(void, lk_softmax, (float *x, int n), (x, n))
LK_OP_DISPATCH(void, lk_swiglu, (const float *g, const float *u, float *out, int n), (g, u, out, n))
LK_OP_DISPATCH(void, lk_add, (const float *a, const float *b, float *out, int n), (a, b, out, n))
LK_OP_DISPATCH(int, lk_argmax, (const float *x, int n), (x, n))
LK_OP_DISPATCH(void, lk_attention,
               (const float *q, int ldq, int M, int pos0, const void *kc, const void *vc, int cache_f16, int max_seq,
                int H, int Hkv, int hd, float scale, float *out, float *scratch),
               (q, ldq, M, pos0, kc, vc, cache_f16, max_seq, H, Hkv, hd, scale, out, scratch))
LK_OP_DISPATCH(void, lk_embed_q8, (const int8_t *d, const float *s, int K, const int32_t *ids, int n, float *out),
               (d, s, K, ids, n, out))
LK_OP_DISPATCH(void, lk_embed_q4,
               (const uint8_t *d, const void *s, int sf16, const uint8_t *z, int K, int G, const int32_t *ids, int n,
                float *out),
               (d, s, sf16, z, K, G, ids, n, out))
LK_OP_DISPATCH(void, lk_embed_f16, (const uint16_t *d, int K, const int32_t *ids, int n, float *out),
               (d, K, ids, n, out))
