/* llamac ARM kernel library (kernels-arm): public API.
 *
 * Every matrix kernel has one signature and four paths: a portable scalar twin (the
 * reference), plain NEON (armv8-a), SDOT (armv8.2-a+dotprod) and SMMLA (armv8.6-a+i8mm).
 * lk_matmul() dispatches at run time (getauxval); LK_PATH=scalar|neon|dotprod|i8mm forces one.
 * Weights are repacked once from the compiler's plain layout (compiler/ir/quantized.ts) by the
 * reference packers below; the packed layout is documented in kernels-arm/README.md. */
#ifndef LK_H
#define LK_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { LK_PATH_SCALAR = 0, LK_PATH_NEON = 1, LK_PATH_DOTPROD = 2, LK_PATH_I8MM = 3, LK_NPATHS = 4 } lk_path;

/* Best path this CPU supports (AT_HWCAP / AT_HWCAP2). */
lk_path lk_detect_path(void);
/* The path lk_matmul and the ops use: LK_PATH if set (clamped to what the CPU supports, with a
 * note on stderr), otherwise lk_detect_path(). Read once. */
lk_path lk_active_path(void);
const char *lk_path_name(lk_path p);
/* Parse "scalar", "neon", "dotprod", "i8mm"; -1 if unknown. */
int lk_path_from_name(const char *s);

typedef enum { LK_W_Q4 = 0, LK_W_Q8 = 1, LK_W_F16 = 2, LK_W_F32 = 3 } lk_wtype;

/* Rows are packed in panels of LK_NR; K blocks are LK_KB long (the activation quant block). */
#define LK_NR 8
#define LK_KB 32

typedef struct {
  lk_wtype type;
  int N, K;        /* logical shape: N outputs, K inputs (nn.Linear order) */
  int Kp;          /* K padded: q4 to whole groups, q8 to LK_KB, f16/f32 unpadded */
  int G;           /* q4 group size (32, 64, 128); LK_KB for q8 */
  int ngroups;     /* q4 groups per row */
  int sym;         /* q4: 1 symmetric (zero 8), 0 per-group zero points */
  int scale_f16;   /* q4: scales kept as IEEE half in the packed layout */
  size_t group_bytes; /* q4: bytes per group of one panel (header + G/32 blocks) */
  size_t panel_bytes; /* bytes per panel of LK_NR rows */
  size_t bytes;
  uint8_t *data;   /* owned; lk_matrix_free releases it */
} lk_matrix;

/* Reference packers from the plain layout.
 * q4:  data [N][ngroups*G/2] (low nibble = even k, K padded with q = zero),
 *      scales [N][ngroups] as f32 (scale_f16 = 0) or IEEE half bits (scale_f16 = 1),
 *      zeros [N][ngroups] one byte each (0..15), or NULL for symmetric (zero 8).
 * q8:  data int8 [N][K], scales [N] (f32 or half bits), value = q * scale.
 * f16: [N][K] half bits; f32: [N][K].
 * Return 0 on success. */
int lk_pack_q4(lk_matrix *m, const uint8_t *data, const void *scales, int scale_f16,
               const uint8_t *zeros, int N, int K, int G);
int lk_pack_q8(lk_matrix *m, const int8_t *data, const void *scales, int scale_f16, int N, int K);
int lk_pack_f16(lk_matrix *m, const uint16_t *w, int N, int K);
int lk_pack_f32(lk_matrix *m, const float *w, int N, int K);
void lk_matrix_free(lk_matrix *m);

/* y[M][N] = x[M][K] * W^T, f32 accumulation. M = 1 is the decode GEMV, M > 1 the prefill GEMM.
 * Int weights quantize each activation row to int8 per block of 32 (into `work`) and use integer
 * dot products. `work` must hold lk_matmul_work_bytes(w, M) bytes (16-byte aligned). */
size_t lk_matmul_work_bytes(const lk_matrix *w, int M);
typedef void (*lk_matmul_fn)(const lk_matrix *w, const float *x, int M, float *y, void *work);
void lk_matmul(const lk_matrix *w, const float *x, int M, float *y, void *work);
void lk_matmul_scalar(const lk_matrix *w, const float *x, int M, float *y, void *work);
void lk_matmul_neon(const lk_matrix *w, const float *x, int M, float *y, void *work);
void lk_matmul_dotprod(const lk_matrix *w, const float *x, int M, float *y, void *work);
void lk_matmul_i8mm(const lk_matrix *w, const float *x, int M, float *y, void *work);
lk_matmul_fn lk_matmul_for(lk_path p);

/* ---- decoder ops: scalar twin + NEON (armv8-a), dispatching wrapper without suffix ---- */
#define LK_OP(ret, name, args) ret name args; ret name##_scalar args; ret name##_neon args;

/* out[r] = x[r] / sqrt(mean(x[r]^2) + eps) * w, rows of n */
LK_OP(void, lk_rmsnorm, (const float *x, const float *w, float *out, int rows, int n, float eps))
/* Rotate-half RoPE in place on M rows of H heads of hd values; row m starts at x + m*ld (ld >= H*hd,
 * so q and k are rotated inside a fused QKV row); cos/sin tables [M][hd/2], row m for token m
 * (lk_rope_tables builds them from the model's inverse frequencies). */
LK_OP(void, lk_rope, (float *x, int ld, int M, int H, int hd, const float *cos_t, const float *sin_t))
/* In-place softmax over n values. */
LK_OP(void, lk_softmax, (float *x, int n))
/* out = silu(g) * u */
LK_OP(void, lk_swiglu, (const float *g, const float *u, float *out, int n))
/* out = a + b (out may alias a) */
LK_OP(void, lk_add, (const float *a, const float *b, float *out, int n))
/* index of the first maximum */
LK_OP(int, lk_argmax, (const float *x, int n))

/* Causal GQA attention over a KV cache.
 * q: M rows of [H][hd], row m at q + m*ldq (ldq >= H*hd: q read in place from a fused QKV row), for
 * tokens in cache slots pos0..pos0+M-1; cache [Hkv][max_seq][hd] (f32, or f16 half bits when
 * cache_f16) already holding slots 0..pos0+M-1; out [M][H][hd]; scores are q.k * scale (the
 * model's softmax scale, 1/sqrt(hd) for Llama). scratch: pos0 + M floats. M = 1 is decode. */
LK_OP(void, lk_attention, (const float *q, int ldq, int M, int pos0, const void *kc, const void *vc, int cache_f16,
                           int max_seq, int H, int Hkv, int hd, float scale, float *out, float *scratch))

/* RoPE tables for M tokens from the inverse frequencies the compiler computed (inv_freq[half]),
 * rounded the way transformers rounds: angle = float32(float32(position) * inv_freq[i]), then
 * cos/sin of that float32 angle rounded to float32. cos_t/sin_t [M][half]. */
void lk_rope_tables(const float *inv_freq, int half, const int32_t *positions, int M, float *cos_t, float *sin_t);

/* Store M tokens' K (or V) rows into a cache [Hkv][max_seq][hd] at slots pos0..pos0+M-1, as f32
 * or f16 (round to nearest even); row m (Hkv*hd values) at src + m*ld, a view of fused QKV. */
void lk_kv_store(void *cache, int cache_f16, int max_seq, int Hkv, int hd, int pos0, const float *src, int ld, int M);

/* Row n of a packed matrix, dequantized to out[K]: the embedding gather that reads the same bytes
 * as the (tied) lm_head. Values equal the plain layout's (q - zero) * scale rounded to float32. */
void lk_matrix_row(const lk_matrix *w, int n, float *out);

/* Embedding row gather: out[i][0..K) = row ids[i] of the table, dequantized.
 * q8: data int8 [V][K], scales [V] f32. q4: plain int4 layout (see lk_pack_q4) with scales f32 or
 * half bits. f16: [V][K] half bits. */
LK_OP(void, lk_embed_q8, (const int8_t *data, const float *scales, int K, const int32_t *ids, int n, float *out))
LK_OP(void, lk_embed_q4, (const uint8_t *data, const void *scales, int scale_f16, const uint8_t *zeros, int K, int G,
                          const int32_t *ids, int n, float *out))
LK_OP(void, lk_embed_f16, (const uint16_t *data, int K, const int32_t *ids, int n, float *out))

/* IEEE half conversions (round to nearest even), portable. */
uint16_t lk_f32_to_f16(float f);
float lk_f16_to_f32(uint16_t h);

#ifdef __cplusplus
}
#endif
#endif
