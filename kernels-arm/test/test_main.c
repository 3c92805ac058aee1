/* kernels-arm test driver: every matrix kernel and op, on every path this CPU supports, against
 * its scalar twin on random data with ragged shapes; the scalar twins against the plain-layout
 * definition (compiler/ir/quantized.ts) in double precision. Run under qemu-aarch64 with
 * -cpu max / cortex-a76 / cortex-a72 so every path and the dispatch are exercised.
 * Prints one line per case; exit status 1 if any case fails. */
#include "lk.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- named tolerances ----
 * Fast path vs scalar twin, relative to sum |w*x| of the row. Zero on purpose: every path
 * computes the same exact integer block sums and the same fused multiply-adds in the same order
 * (int4 value*16 unpacking is compensated by an exact 1/16 in the activation scale), so any
 * difference at all is a bug in a fast path. */
#define TOL_TWIN_Q4 0.0
#define TOL_TWIN_Q8 0.0
#define TOL_TWIN_F16 0.0
#define TOL_TWIN_F32 0.0
/* Scalar twin vs the exact plain-layout product: activation rounding costs at most half an
 * activation step per weight (|w| * scale/2, with slack for the float scale), plus float sums. */
#define ACT_ROUND_SLACK 0.5005
#define TOL_FLOAT_SUM 2e-6
/* Ops vs scalar twin (relative): the NEON exp polynomial and lane-split sums differ slightly. */
#define TOL_RMSNORM 2e-6
#define TOL_ROPE 1e-7
#define TOL_SOFTMAX 2e-6
#define TOL_SWIGLU 2e-6
#define TOL_ATTENTION 1e-5

static int failures, cases;
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return (uint32_t)(rng >> 16); }
static float frand(void) { return (float)(rnd() % 2000001) / 1000000.0f - 1.0f; }

static void report(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#include <stdarg.h>
static void report(int ok, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  printf("%s ", ok ? "PASS" : "FAIL");
  vprintf(fmt, ap);
  printf("\n");
  va_end(ap);
  cases++;
  if (!ok) failures++;
}

typedef struct { /* a weight in the compiler's plain layout + its dequantized copy */
  lk_wtype type; int N, K, G, sym, sf16;
  uint8_t *q4; int8_t *q8; void *scales; uint8_t *zeros; uint16_t *f16; float *f32;
  double *deq; /* [N][K] */
} plain_w;

static plain_w make_weight(lk_wtype type, int N, int K, int G, int sym, int sf16) {
  plain_w p; memset(&p, 0, sizeof p);
  p.type = type; p.N = N; p.K = K; p.G = G; p.sym = sym; p.sf16 = sf16;
  p.deq = calloc((size_t)N * K, sizeof(double));
  if (type == LK_W_Q4) {
    int ng = (K + G - 1) / G; size_t rb = (size_t)ng * G / 2;
    p.q4 = calloc((size_t)N * rb, 1);
    p.scales = calloc((size_t)N * ng, 4);
    if (!sym) p.zeros = calloc((size_t)N * ng, 1);
    for (int n = 0; n < N; n++)
      for (int g = 0; g < ng; g++) {
        size_t gi = (size_t)n * ng + g;
        float s = 0.001f + (float)(rnd() % 1000) / 20000.0f;
        if (sf16) ((uint16_t *)p.scales)[gi] = lk_f32_to_f16(s); else ((float *)p.scales)[gi] = s;
        float sv = sf16 ? lk_f16_to_f32(((uint16_t *)p.scales)[gi]) : s;
        int z = sym ? 8 : (int)(rnd() % 16);
        if (!sym) p.zeros[gi] = (uint8_t)z;
        for (int kk = 0; kk < G; kk++) {
          int k = g * G + kk;
          int q = k < K ? (int)(rnd() % 16) : z; /* padding holds q = zero */
          p.q4[(size_t)n * rb + k / 2] |= (uint8_t)(q << ((k & 1) ? 4 : 0));
          if (k < K) p.deq[(size_t)n * K + k] = (double)(q - z) * sv;
        }
      }
  } else if (type == LK_W_Q8) {
    p.q8 = malloc((size_t)N * K);
    p.scales = malloc((size_t)N * 4);
    for (int n = 0; n < N; n++) {
      float s = 0.001f + (float)(rnd() % 1000) / 50000.0f, sv = s;
      if (sf16) { ((uint16_t *)p.scales)[n] = lk_f32_to_f16(s); sv = lk_f16_to_f32(((uint16_t *)p.scales)[n]); }
      else ((float *)p.scales)[n] = s;
      for (int k = 0; k < K; k++) {
        int q = (int)(rnd() % 255) - 127;
        p.q8[(size_t)n * K + k] = (int8_t)q;
        p.deq[(size_t)n * K + k] = (double)q * sv;
      }
    }
  } else {
    p.f16 = malloc((size_t)N * K * 2);
    p.f32 = malloc((size_t)N * K * 4);
    for (size_t i = 0; i < (size_t)N * K; i++) {
      float v = frand() * 0.1f;
      p.f16[i] = lk_f32_to_f16(v);
      p.f32[i] = type == LK_W_F16 ? lk_f16_to_f32(p.f16[i]) : v;
      p.deq[i] = p.f32[i];
    }
  }
  return p;
}

static void free_weight(plain_w *p) {
  free(p->q4); free(p->q8); free(p->scales); free(p->zeros); free(p->f16); free(p->f32); free(p->deq);
}

static int pack(const plain_w *p, lk_matrix *m) {
  switch (p->type) {
    case LK_W_Q4: return lk_pack_q4(m, p->q4, p->scales, p->sf16, p->zeros, p->N, p->K, p->G);
    case LK_W_Q8: return lk_pack_q8(m, p->q8, p->scales, p->sf16, p->N, p->K);
    case LK_W_F16: return lk_pack_f16(m, p->f16, p->N, p->K);
    default: return lk_pack_f32(m, p->f32, p->N, p->K);
  }
}

static const char *tname[] = {"int4", "int8", "f16", "f32"};

static void test_matmul(lk_path best, lk_wtype type, int N, int K, int G, int sym, int sf16, int M) {
  plain_w p = make_weight(type, N, K, G, sym, sf16);
  lk_matrix m;
  char desc[160];
  snprintf(desc, sizeof desc, "matmul %s%s%s G=%d N=%d K=%d M=%d", tname[type],
           type == LK_W_Q4 ? (sym ? " sym" : " asym") : "", (type <= LK_W_Q8) ? (sf16 ? " f16-scale" : " f32-scale") : "",
           type == LK_W_Q4 ? G : 0, N, K, M);
  if (pack(&p, &m)) { report(0, "%s: pack failed", desc); free_weight(&p); return; }
  enum { CANARY = 16 }; /* outputs past M*N must stay untouched (ragged N, odd M) */
  float *x = malloc((size_t)M * K * 4), *ys = malloc((size_t)M * N * 4), *yf = malloc(((size_t)M * N + CANARY) * 4);
  for (size_t i = 0; i < (size_t)M * K; i++) x[i] = frand() * (i % 7 == 0 ? 4.0f : 1.0f);
  void *work = aligned_alloc(64, (lk_matmul_work_bytes(&m, M) + 63) & ~(size_t)63);
  /* 1. scalar twin (packed bytes) vs the plain-layout definition, exact activations */
  lk_matmul_scalar(&m, x, M, ys, work);
  int ok = 1; double worst = 0;
  for (int t = 0; t < M; t++)
    for (int n = 0; n < N; n++) {
      double ref = 0, absw = 0, bound = 0;
      int nb = (K + 31) / 32;
      for (int b = 0; b < nb; b++) {
        double amax = 0, wsum = 0;
        for (int k = b * 32; k < K && k < b * 32 + 32; k++) {
          double xv = x[(size_t)t * K + k], wv = p.deq[(size_t)n * K + k];
          ref += wv * xv; absw += fabs(wv * xv); wsum += fabs(wv);
          if (fabs(xv) > amax) amax = fabs(xv);
        }
        if (type <= LK_W_Q8) bound += wsum * amax / 127.0 * ACT_ROUND_SLACK;
      }
      bound += TOL_FLOAT_SUM * absw + 1e-30;
      double err = fabs((double)ys[(size_t)t * N + n] - ref);
      if (err / bound > worst) worst = err / bound;
      if (!(err <= bound)) ok = 0;
    }
  report(ok, "%s scalar-vs-definition (worst err/bound %.3f)", desc, worst);
  /* 2. every fast path this CPU has vs the scalar twin */
  double tol = type == LK_W_Q4 ? TOL_TWIN_Q4 : type == LK_W_Q8 ? TOL_TWIN_Q8 : type == LK_W_F16 ? TOL_TWIN_F16 : TOL_TWIN_F32;
  for (int path = LK_PATH_NEON; path <= (int)best; path++) {
    for (size_t i = 0; i < (size_t)M * N + CANARY; i++) yf[i] = NAN;
    lk_matmul_for((lk_path)path)(&m, x, M, yf, work);
    int pok = 1; double maxd = 0;
    for (size_t i = (size_t)M * N; i < (size_t)M * N + CANARY; i++) if (!isnan(yf[i])) pok = 0;
    for (int t = 0; t < M; t++)
      for (int n = 0; n < N; n++) {
        double absw = 0;
        for (int k = 0; k < K; k++) absw += fabs(p.deq[(size_t)n * K + k] * x[(size_t)t * K + k]);
        double d = fabs((double)yf[(size_t)t * N + n] - (double)ys[(size_t)t * N + n]);
        if (d > maxd) maxd = d;
        if (!(d <= tol * absw + 1e-30)) pok = 0;
      }
    report(pok, "%s %s-vs-scalar (max abs diff %.3g)", desc, lk_path_name((lk_path)path), maxd);
  }
  /* 3. the dispatcher (lk_matmul) runs the active path: LK_PATH or the best one */
  {
    lk_path act = lk_active_path();
    float *yd = malloc((size_t)M * N * 4);
    lk_matmul_for(act)(&m, x, M, yf, work);
    lk_matmul(&m, x, M, yd, work);
    report(!memcmp(yd, yf, (size_t)M * N * 4), "%s dispatch(%s)", desc, lk_path_name(act));
    free(yd);
  }
  free(work); free(x); free(ys); free(yf);
  lk_matrix_free(&m);
  free_weight(&p);
}

/* |a - b| <= tol * (|b| + rms(b)): relative, with the vector's rms as the floor near zero. */
static int close_rel(const float *a, const float *b, int n, double tol, double *worst) {
  int ok = 1; *worst = 0;
  double rms = 0;
  for (int i = 0; i < n; i++) rms += (double)b[i] * b[i];
  rms = sqrt(rms / n) + 1e-30;
  for (int i = 0; i < n; i++) {
    double d = fabs((double)a[i] - (double)b[i]), s = fabs((double)b[i]) + rms;
    if (d / s > *worst) *worst = d / s;
    if (!(d <= tol * s)) ok = 0;
  }
  return ok;
}

static void test_ops(void) {
  double w;
  enum { R = 3, NN = 2051 };
  float *x = malloc(R * NN * 4), *g = malloc(NN * 4), *a = malloc(R * NN * 4), *b = malloc(R * NN * 4);
  for (int i = 0; i < R * NN; i++) x[i] = frand() * 3.0f;
  for (int i = 0; i < NN; i++) g[i] = 0.5f + frand();
  lk_rmsnorm_scalar(x, g, a, R, NN, 1e-5f);
  lk_rmsnorm_neon(x, g, b, R, NN, 1e-5f);
  report(close_rel(b, a, R * NN, TOL_RMSNORM, &w), "rmsnorm rows=%d n=%d neon-vs-scalar (worst rel %.3g)", R, NN, w);
  /* rmsnorm twin vs its definition */
  { double ss = 0; for (int i = 0; i < NN; i++) ss += (double)x[i] * x[i];
    double inv = 1.0 / sqrt(ss / NN + 1e-5); int ok = 1;
    for (int i = 0; i < NN; i++) if (fabs(a[i] - x[i] * inv * g[i]) > 1e-5 * fabs(x[i] * inv * g[i]) + 1e-7) ok = 0;
    report(ok, "rmsnorm scalar-vs-definition"); }

  for (int n = 1; n <= 37; n += 9) { /* softmax, ragged lengths */
    for (int i = 0; i < n; i++) a[i] = b[i] = frand() * 20.0f;
    lk_softmax_scalar(a, n); lk_softmax_neon(b, n);
    double s = 0; for (int i = 0; i < n; i++) s += a[i];
    report(close_rel(b, a, n, TOL_SOFTMAX, &w) && fabs(s - 1.0) < 1e-5, "softmax n=%d neon-vs-scalar (worst rel %.3g)", n, w);
  }
  lk_swiglu_scalar(x, x + NN, a, NN); lk_swiglu_neon(x, x + NN, b, NN);
  report(close_rel(b, a, NN, TOL_SWIGLU, &w), "swiglu n=%d neon-vs-scalar (worst rel %.3g)", NN, w);
  { int ok = 1; for (int i = 0; i < NN; i++) { double gg = x[i]; double ref = gg / (1 + exp(-gg)) * x[NN + i];
      if (fabs(a[i] - ref) > 1e-5 * fabs(ref) + 1e-7) ok = 0; }
    report(ok, "swiglu scalar-vs-definition"); }
  lk_add_scalar(x, x + NN, a, NN); lk_add_neon(x, x + NN, b, NN);
  report(!memcmp(a, b, NN * 4) && a[5] == x[5] + x[NN + 5], "add n=%d neon-vs-scalar exact", NN);
  for (int n = 1; n < 40; n += 7) {
    for (int i = 0; i < n; i++) a[i] = (float)(rnd() % 5); /* many ties: first index wins */
    int s = lk_argmax_scalar(a, n), v = lk_argmax_neon(a, n);
    int ref = 0; for (int i = 1; i < n; i++) if (a[i] > a[ref]) ref = i;
    report(s == v && s == ref, "argmax n=%d (scalar %d neon %d ref %d)", n, s, v, ref);
  }

  /* RoPE: rotate-half on a strided view (rows of ld > H*hd, like q inside a fused QKV row), tables
   * from inverse frequencies (lk_rope_tables) */
  for (int hd = 36; hd <= 64; hd += 28) { int M = 3, H = 4, h2 = hd / 2, ld = H * hd + 7; /* 36: h2 % 4 != 0 */
    float *ct = malloc(M * h2 * 4), *st = malloc(M * h2 * 4), *inv = malloc(h2 * 4);
    int32_t pos[3] = {5, 6, 100003};
    for (int i = 0; i < h2; i++) inv[i] = (float)pow(500000.0, -2.0 * i / hd);
    lk_rope_tables(inv, h2, pos, M, ct, st);
    for (int i = 0; i < M * ld; i++) a[i] = b[i] = x[i];
    lk_rope_scalar(a, ld, M, H, hd, ct, st); lk_rope_neon(b, ld, M, H, hd, ct, st);
    report(close_rel(b, a, M * ld, TOL_ROPE, &w), "rope M=%d H=%d hd=%d ld=%d neon-vs-scalar (worst rel %.3g)", M, H, hd, ld, w);
    int ok = 1; /* definition: token 1 head 2 element 3; the columns past H*hd are untouched */
    { int m = 1, h = 2, i = 3; const float *v = x + m * ld + h * hd;
      double ref = v[i] * ct[m * h2 + i] - v[i + h2] * st[m * h2 + i];
      double ref2 = v[i + h2] * ct[m * h2 + i] + v[i] * st[m * h2 + i];
      if (fabs(a[m * ld + h * hd + i] - ref) > 1e-6 || fabs(a[m * ld + h * hd + i + h2] - ref2) > 1e-6) ok = 0;
      for (int j = H * hd; j < ld; j++) if (a[m * ld + j] != x[m * ld + j]) ok = 0; }
    report(ok, "rope scalar-vs-definition (strided)");
    /* tables: angle rounded to float32 once, like transformers (float32(pos) * inv_freq) */
    ok = 1;
    for (int m = 0; m < M; m++) for (int i = 0; i < h2; i++) {
      float ang = (float)pos[m] * inv[i];
      if (ct[m * h2 + i] != (float)cos((double)ang) || st[m * h2 + i] != (float)sin((double)ang)) ok = 0; }
    report(ok, "rope tables from inv_freq hd=%d (far position %d)", hd, pos[2]);
    free(ct); free(st); free(inv); }

  /* attention: GQA (H=4 over Hkv=2), decode and prefill, f32 and f16 caches; q read from a fused
   * QKV-like row (stride ldq), the IR's scale; K/V stored with lk_kv_store from the same rows */
  for (int f16 = 0; f16 <= 1; f16++) {
    int H = 4, Hkv = 2, hd = 18, S = 16, pos0 = 9, M = 4; /* hd % 4 != 0: vector tails */
    int ldq = (H + 2 * Hkv) * hd;
    float scale = 0.3f; /* not 1/sqrt(hd): the kernel must use the one it is given */
    size_t cn = (size_t)Hkv * S * hd;
    float *kf = malloc(cn * 4), *vf = malloc(cn * 4); uint16_t *kh = malloc(cn * 2), *vh = malloc(cn * 2);
    for (size_t i = 0; i < cn; i++) { kh[i] = lk_f32_to_f16(frand()); vh[i] = lk_f32_to_f16(frand());
      kf[i] = lk_f16_to_f32(kh[i]); vf[i] = lk_f16_to_f32(vh[i]); }
    const void *kc = f16 ? (const void *)kh : kf, *vc = f16 ? (const void *)vh : vf;
    float *qkv = malloc(M * ldq * 4), *o1 = malloc(M * H * hd * 4), *o2 = malloc(M * H * hd * 4), *o3 = malloc(H * hd * 4);
    float scratch[64];
    for (int i = 0; i < M * ldq; i++) qkv[i] = frand() * 2.0f;
    /* the new tokens' K and V (exactly representable in f16, so both caches hold the same numbers) */
    for (int m = 0; m < M; m++) for (int i = H * hd; i < ldq; i++) qkv[m * ldq + i] = lk_f16_to_f32(lk_f32_to_f16(qkv[m * ldq + i]));
    lk_kv_store(f16 ? (void *)kh : kf, f16, S, Hkv, hd, pos0, qkv + H * hd, ldq, M);
    lk_kv_store(f16 ? (void *)vh : vf, f16, S, Hkv, hd, pos0, qkv + (H + Hkv) * hd, ldq, M);
    { int ok = 1; for (int m = 0; m < M; m++) for (int h = 0; h < Hkv; h++) for (int i = 0; i < hd; i++) {
        size_t c = ((size_t)h * S + pos0 + m) * hd + i;
        float kv = f16 ? lk_f16_to_f32(kh[c]) : kf[c], vv = f16 ? lk_f16_to_f32(vh[c]) : vf[c];
        if (kv != qkv[m * ldq + H * hd + h * hd + i] || vv != qkv[m * ldq + (H + Hkv) * hd + h * hd + i]) ok = 0;
        if (f16) { kf[c] = kv; vf[c] = vv; } }
      report(ok, "kv_store %s cache from strided rows exact", f16 ? "f16" : "f32"); }
    lk_attention_scalar(qkv, ldq, M, pos0, kc, vc, f16, S, H, Hkv, hd, scale, o1, scratch);
    lk_attention_neon(qkv, ldq, M, pos0, kc, vc, f16, S, H, Hkv, hd, scale, o2, scratch);
    report(close_rel(o2, o1, M * H * hd, TOL_ATTENTION, &w), "attention prefill M=%d pos0=%d %s cache neon-vs-scalar (worst rel %.3g)", M, pos0, f16 ? "f16" : "f32", w);
    /* decode of the last token = last row of prefill (causal) */
    lk_attention_neon(qkv + (M - 1) * ldq, ldq, 1, pos0 + M - 1, kc, vc, f16, S, H, Hkv, hd, scale, o3, scratch);
    report(close_rel(o3, o1 + (M - 1) * H * hd, H * hd, TOL_ATTENTION, &w), "attention decode pos=%d %s cache == prefill row (worst rel %.3g)", pos0 + M - 1, f16 ? "f16" : "f32", w);
    /* scalar vs definition in double for token 1 head 3 (kv head 1), sees slots 0..pos0+1 */
    { int m = 1, h = 3, L = pos0 + m + 1, ok = 1; double sc[64], mx = -1e300, sum = 0;
      const float *qv = qkv + m * ldq + h * hd;
      for (int j = 0; j < L; j++) { double s = 0; for (int i = 0; i < hd; i++) s += (double)qv[i] * kf[(1 * S + j) * hd + i];
        sc[j] = s * scale; if (sc[j] > mx) mx = sc[j]; }
      for (int j = 0; j < L; j++) { sc[j] = exp(sc[j] - mx); sum += sc[j]; }
      for (int i = 0; i < hd; i++) { double r = 0; for (int j = 0; j < L; j++) r += sc[j] / sum * vf[(1 * S + j) * hd + i];
        if (fabs(o1[(m * H + h) * hd + i] - r) > 1e-5 * (fabs(r) + 1e-3)) ok = 0; }
      report(ok, "attention %s cache scalar-vs-definition (scale %.2f, strided q)", f16 ? "f16" : "f32", scale); }
    free(kf); free(vf); free(kh); free(vh); free(qkv); free(o1); free(o2); free(o3);
  }

  /* lk_matrix_row: the embedding gather from packed bytes (tied lm_head) equals the plain layout's
   * dequantized values exactly, every weight type */
  { static const int G4[] = {32, 64, 128};
    for (int t = 0; t < 3; t++)
      for (int sym = 0; sym <= 1; sym++) {
        plain_w p = make_weight(LK_W_Q4, 13, 150, G4[t], sym, t != 1);
        lk_matrix m; int ok = !pack(&p, &m);
        for (int n = 0; ok && n < 13; n++) { lk_matrix_row(&m, n, a);
          for (int k = 0; k < 150; k++) if (a[k] != (float)p.deq[(size_t)n * 150 + k]) ok = 0; }
        report(ok, "matrix_row int4 G=%d %s exact", G4[t], sym ? "sym" : "asym");
        lk_matrix_free(&m); free_weight(&p);
      }
    for (int t = LK_W_Q8; t <= LK_W_F32; t++) {
      plain_w p = make_weight((lk_wtype)t, 11, 77, 0, 1, 1);
      lk_matrix m; int ok = !pack(&p, &m);
      for (int n = 0; ok && n < 11; n++) { lk_matrix_row(&m, n, a);
        for (int k = 0; k < 77; k++) if (a[k] != (float)p.deq[(size_t)n * 77 + k]) ok = 0; }
      report(ok, "matrix_row %s exact", tname[t]);
      lk_matrix_free(&m); free_weight(&p);
    }
  }

  /* embedding gather */
  { int V = 11, K = 77; int32_t ids[4] = {3, 0, 10, 3};
    for (int G = 32; G <= 128; G *= 2)
      for (int sym = 0; sym <= 1; sym++) {
        plain_w p = make_weight(LK_W_Q4, V, K, G, sym, G == 64);
        lk_embed_q4_scalar(p.q4, p.scales, p.sf16, p.zeros, K, G, ids, 4, a);
        lk_embed_q4_neon(p.q4, p.scales, p.sf16, p.zeros, K, G, ids, 4, b);
        int ok = !memcmp(a, b, 4 * K * 4);
        for (int i = 0; i < 4; i++) for (int k = 0; k < K; k++) if (a[i * K + k] != (float)p.deq[(size_t)ids[i] * K + k]) ok = 0;
        report(ok, "embed int4 G=%d %s K=%d exact", G, sym ? "sym" : "asym", K);
        free_weight(&p);
      }
    plain_w p = make_weight(LK_W_Q8, V, K, 0, 1, 0);
    lk_embed_q8_scalar(p.q8, p.scales, K, ids, 4, a); lk_embed_q8_neon(p.q8, p.scales, K, ids, 4, b);
    int ok = !memcmp(a, b, 4 * K * 4);
    for (int i = 0; i < 4; i++) for (int k = 0; k < K; k++) if ((double)a[i * K + k] != (double)(float)p.deq[(size_t)ids[i] * K + k]) ok = 0;
    report(ok, "embed int8 K=%d exact", K);
    free_weight(&p);
    p = make_weight(LK_W_F16, V, K, 0, 1, 0);
    lk_embed_f16_scalar(p.f16, K, ids, 4, a); lk_embed_f16_neon(p.f16, K, ids, 4, b);
    ok = !memcmp(a, b, 4 * K * 4) && a[K + 5] == p.f32[5];
    report(ok, "embed f16 K=%d exact", K);
    free_weight(&p);
  }
  free(x); free(g); free(a); free(b);
}

int main(int argc, char **argv) {
  lk_path best = lk_detect_path(), active = lk_active_path();
  printf("path detected=%s active=%s\n", lk_path_name(best), lk_path_name(active));
  int quick = argc > 1 && !strcmp(argv[1], "--dispatch-only");
  if (quick) return 0;
  /* f16 round trip on edge values */
  { float v[] = {0.0f, 1.0f, -2.5f, 65504.0f, 6.1035156e-05f, 5.9604645e-08f, 0.333333f};
    int ok = 1; for (unsigned i = 0; i < sizeof v / sizeof v[0]; i++) {
      float r = lk_f16_to_f32(lk_f32_to_f16(v[i])); if (fabsf(r - v[i]) > fabsf(v[i]) * 4.9e-4f) ok = 0; }
    ok &= lk_f32_to_f16(1.0f) == 0x3c00 && lk_f32_to_f16(-2.0f) == 0xc000 && lk_f32_to_f16(65520.0f) == 0x7c00;
    report(ok, "f16 conversions"); }
  /* int4: every group size, symmetric / zero points, f16 / f32 scales; ragged N and K */
  static const int Ms[] = {1, 2, 5};
  for (int G = 32; G <= 128; G *= 2)
    for (int sym = 1; sym >= 0; sym--)
      for (int sf16 = 1; sf16 >= 0; sf16--)
        for (unsigned mi = 0; mi < sizeof Ms / sizeof Ms[0]; mi++) {
          int N = 8 + (int)(rnd() % 17), K = G + 1 + (int)(rnd() % (2 * G));
          test_matmul(best, LK_W_Q4, N, K, G, sym, sf16, Ms[mi]);
        }
  test_matmul(best, LK_W_Q4, 16, 256, 32, 1, 1, 1); /* whole panels, whole groups */
  test_matmul(best, LK_W_Q4, 24, 128, 128, 0, 0, 4);
  test_matmul(best, LK_W_Q4, 3, 5, 32, 0, 1, 3);       /* K shorter than one group, N < one panel */
  test_matmul(best, LK_W_Q4, 9, 2080, 32, 1, 1, 1);    /* long K: running sums over 65 blocks (odd) */
  test_matmul(best, LK_W_Q4, 17, 2000, 128, 0, 0, 1);
  test_matmul(best, LK_W_Q4, 8, 1000, 64, 1, 0, 7);    /* odd M: last SMMLA pair is one token */
  test_matmul(best, LK_W_Q4, 20, 160, 32, 0, 1, 17);   /* several prefill tiles plus tails */
  for (int sf16 = 0; sf16 <= 1; sf16++)
    for (unsigned mi = 0; mi < sizeof Ms / sizeof Ms[0]; mi++)
      test_matmul(best, LK_W_Q8, 5 + (int)(rnd() % 20), 33 + (int)(rnd() % 200), 0, 1, sf16, Ms[mi]);
  test_matmul(best, LK_W_Q8, 32, 96, 0, 1, 0, 6);
  test_matmul(best, LK_W_Q8, 2, 7, 0, 1, 1, 3);
  test_matmul(best, LK_W_Q8, 9, 2085, 0, 1, 0, 1);
  test_matmul(best, LK_W_Q8, 12, 70, 0, 1, 1, 17);
  for (int t = LK_W_F16; t <= LK_W_F32; t++)
    for (unsigned mi = 0; mi < sizeof Ms / sizeof Ms[0]; mi++)
      test_matmul(best, (lk_wtype)t, 3 + (int)(rnd() % 20), 1 + (int)(rnd() % 150), 0, 1, 0, Ms[mi]);
  test_matmul(best, LK_W_F32, 16, 64, 0, 1, 0, 9);
  test_ops();
  printf("%d cases, %d failed\n", cases, failures);
  return failures ? 1 : 0;
}
