/* llamac NEON runtime: load an artifact folder, then prefill / decode with the KV cache held here.
 * One model per lc_model; not thread-safe (one caller at a time). Every function that can fail
 * returns non-zero (or NULL) and leaves a one-line reason in lc_error() / the err buffer. */
#ifndef LC_MODEL_H
#define LC_MODEL_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lc_model lc_model;

typedef struct {
  /* Check weights.bin against manifest.json's sha256 at load (its size is always checked). */
  int verify_sha256;
} lc_load_options;

/* Load dir/weights.bin (mmapped, read-only) after checking it against dir/manifest.json.
 * NULL on failure with a one-line message in err. */
lc_model *lc_load(const char *dir, const lc_load_options *opts, char *err, size_t errlen);
void lc_free(lc_model *m);

int lc_vocab(const lc_model *m);
int lc_max_seq(const lc_model *m);
/* Tokens in the KV cache. */
int lc_cached(const lc_model *m);
const char *lc_error(const lc_model *m);

/* Empty the KV cache. */
void lc_reset(lc_model *m);
/* Append n tokens to the cache at RoPE positions start_pos..start_pos+n-1. If logits is not NULL it
 * receives [n][vocab] (every position); lc_logits() holds the last row either way. */
int lc_prefill(lc_model *m, const int32_t *ids, int n, int start_pos, float *logits);
/* One token at the position after the previous call's last. */
int lc_decode(lc_model *m, int32_t id);
/* Logits of the last token processed, [vocab]. */
const float *lc_logits(const lc_model *m);

#ifdef __cplusplus
}
#endif
#endif
