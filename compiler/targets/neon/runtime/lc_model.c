/* llamac NEON runtime: validates and mmaps weights.bin, then runs its op list on kernels-arm.
 * Nothing model-specific lives here: shapes, the op sequence and the weights all come from the
 * file (lc_format.h), so any Llama checkpoint the compiler lowers runs with this one source. */
#include "lc_model.h"
#include "lc_format.h"
#include "lc_sha256.h"
#include "lk.h"
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct lc_model {
  const uint8_t *map;
  size_t map_bytes;
  lc_header h;
  const lc_tensor *tensors;
  const lc_op *ops;
  lk_matrix *mats;     /* one per tensor; data points into the mapping (not owned) */
  float **slots;       /* [n_slots][max_chunk * width] */
  const uint32_t *slot_width;
  void *work;          /* matmul activation workspace */
  float *scratch;      /* attention scores, max_seq */
  float *cos_t, *sin_t;/* RoPE tables for the current chunk */
  int tab_tensor;      /* inv_freq tensor the tables were built from, -1 if none */
  void **kcache, **vcache;
  float *last;         /* [vocab] logits of the last token */
  int len;             /* tokens in the cache */
  int next_pos;        /* RoPE position of the next decoded token */
  char err[256];
};

static int fail(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t n, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, n, fmt, ap);
  va_end(ap);
  return -1;
}
#define FAIL(...) fail(err, errlen, __VA_ARGS__)

/* ---- manifest.json: the size and sha256 recorded for weights.bin ---- */

static char *read_text(const char *path, size_t max) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *buf = malloc(max + 1);
  size_t n = buf ? fread(buf, 1, max, f) : 0;
  fclose(f);
  if (!buf) return NULL;
  buf[n] = 0;
  return buf;
}

/* The compiler writes "files": {"weights.bin": {"sha256": "<hex>", "size": N}, ...}. */
static int manifest_entry(const char *json, char sha[65], unsigned long long *size) {
  const char *p = strstr(json, "\"weights.bin\"");
  if (!p) return -1;
  const char *s = strstr(p, "\"sha256\"");
  const char *z = strstr(p, "\"size\"");
  if (!s || !z) return -1;
  s = strchr(s + 8, '"');
  if (!s) return -1;
  s++;
  for (int i = 0; i < 64; i++) {
    char c = s[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return -1;
    sha[i] = c;
  }
  sha[64] = 0;
  if (s[64] != '"') return -1;
  z = strchr(z + 6, ':');
  if (!z) return -1;
  char *end;
  *size = strtoull(z + 1, &end, 10);
  return end == z + 1 ? -1 : 0;
}

/* ---- validation: every count, offset and view is checked before the op list runs ---- */

static size_t packed_bytes(const lc_tensor *t) {
  size_t panels = ((size_t)t->N + LK_NR - 1) / LK_NR;
  switch (t->type) {
    case LK_W_Q4: {
      size_t ng = ((size_t)t->K + t->G - 1) / t->G;
      size_t hdr = (size_t)LK_NR * (t->scale_f16 ? 2 : 4) + (t->sym ? 0 : (size_t)LK_NR * 4);
      return panels * ng * (hdr + (size_t)(t->G / LK_KB) * 128);
    }
    case LK_W_Q8: return panels * (32 + ((size_t)t->K + LK_KB - 1) / LK_KB * 256);
    case LK_W_F16: return panels * LK_NR * (size_t)t->K * 2;
    case LK_W_F32: return panels * LK_NR * (size_t)t->K * 4;
    case LC_T_VEC: return (size_t)t->N * 4;
    default: return 0;
  }
}

static int check_tensor(const lc_model *m, uint32_t i, char *err, size_t errlen) {
  const lc_tensor *t = &m->tensors[i];
  if (t->type > LC_T_VEC) return FAIL("tensor %u: unknown type %u", i, t->type);
  if (t->N == 0 || t->K == 0 || t->N > (1u << 24) || t->K > (1u << 24)) return FAIL("tensor %u: bad shape [%u, %u]", i, t->N, t->K);
  if (t->type == LK_W_Q4 && t->G != 32 && t->G != 64 && t->G != 128) return FAIL("tensor %u: bad int4 group %u", i, t->G);
  if (t->type == LC_T_VEC && t->K != 1) return FAIL("tensor %u: a vector must have K = 1", i);
  if (t->offset % LC_ALIGN) return FAIL("tensor %u: offset %llu is not %u-byte aligned", i, (unsigned long long)t->offset, LC_ALIGN);
  if (t->bytes != packed_bytes(t)) return FAIL("tensor %u: %llu bytes, its shape needs %zu", i, (unsigned long long)t->bytes, packed_bytes(t));
  if (t->offset < m->h.ops_offset || t->offset > m->map_bytes || t->bytes > m->map_bytes - t->offset)
    return FAIL("tensor %u: bytes [%llu, +%llu) outside the data section", i, (unsigned long long)t->offset, (unsigned long long)t->bytes);
  return 0;
}

/* A view read or written as `cols` columns by every row of a chunk. */
static int check_view(const lc_model *m, const lc_op *op, int k, uint32_t cols, int logits_ok, char *err, size_t errlen) {
  const lc_view *v = &op->v[k];
  if (v->slot == LC_SLOT_LOGITS) {
    if (!logits_ok || v->off != 0 || v->ld != m->h.vocab || cols != m->h.vocab) return FAIL("op %ld: bad logits operand", (long)(op - m->ops));
    return 0;
  }
  if (v->slot >= m->h.n_slots) return FAIL("op %ld: operand %d names slot %u of %u", (long)(op - m->ops), k, v->slot, m->h.n_slots);
  if (cols == 0 || (uint64_t)v->off + cols > v->ld || v->ld > m->slot_width[v->slot])
    return FAIL("op %ld: operand %d (%u columns at %u, stride %u) outside slot %u of width %u", (long)(op - m->ops), k, cols, v->off, v->ld, v->slot, m->slot_width[v->slot]);
  return 0;
}

static int want_tensor(const lc_model *m, const lc_op *op, int k, int vec, uint32_t *N, uint32_t *K, char *err, size_t errlen) {
  uint32_t i = op->w[k];
  if (i >= m->h.n_tensors) return FAIL("op %ld: tensor %u of %u", (long)(op - m->ops), i, m->h.n_tensors);
  const lc_tensor *t = &m->tensors[i];
  if (vec != (t->type == LC_T_VEC)) return FAIL("op %ld: tensor %u is %s", (long)(op - m->ops), i, vec ? "not a vector" : "not a matrix");
  *N = t->N;
  *K = t->K;
  return 0;
}

static int check_op(const lc_model *m, const lc_op *op, char *err, size_t errlen) {
  uint32_t N, K;
  int32_t n = op->i[0];
#define V(k, cols) do { if (check_view(m, op, k, (uint32_t)(cols), 0, err, errlen)) return -1; } while (0)
#define W(k, vec) do { if (want_tensor(m, op, k, vec, &N, &K, err, errlen)) return -1; } while (0)
  switch (op->code) {
    case LC_OP_EMBED:
      W(0, 0);
      if (N != m->h.vocab) return FAIL("embedding table has %u rows, vocab is %u", N, m->h.vocab);
      V(0, K);
      return 0;
    case LC_OP_RMSNORM:
      W(0, 1);
      if ((uint32_t)n != N) return FAIL("rms_norm width %d, weight %u", n, N);
      V(0, n); V(1, n);
      return 0;
    case LC_OP_SKIP_RMSNORM:
      W(0, 1);
      if ((uint32_t)n != N) return FAIL("skip_rms_norm width %d, weight %u", n, N);
      V(0, n); V(1, n); V(2, n); V(3, n);
      return 0;
    case LC_OP_LINEAR:
      W(0, 0);
      V(0, K);
      if (op->v[0].off != 0 || op->v[0].ld != K) return FAIL("op %ld: matmul input must be contiguous", (long)(op - m->ops));
      if (check_view(m, op, 1, N, op->i[0] == 1, err, errlen)) return -1;
      if (op->v[1].slot != LC_SLOT_LOGITS && (op->v[1].off != 0 || op->v[1].ld != N)) return FAIL("op %ld: matmul output must be contiguous", (long)(op - m->ops));
      return 0;
    case LC_OP_ROPE:
      W(0, 1);
      if (op->i[0] <= 0 || op->i[1] <= 0 || op->i[1] % 2 || (uint32_t)op->i[1] / 2 != N || (uint32_t)op->i[1] > 2 * 4096)
        return FAIL("rope: heads %d head_dim %d inv_freq %u", op->i[0], op->i[1], N);
      V(0, (int64_t)op->i[0] * op->i[1]);
      return 0;
    case LC_OP_ATTENTION: {
      int32_t H = op->i[0], Hkv = op->i[1], hd = op->i[2], layer = op->i[3];
      if (H <= 0 || Hkv <= 0 || H % Hkv || (uint32_t)Hkv != m->h.kv_heads || (uint32_t)hd != m->h.head_dim || layer < 0 || (uint32_t)layer >= m->h.n_layers)
        return FAIL("attention: heads %d/%d head_dim %d layer %d do not match the cache", H, Hkv, hd, layer);
      if (!(op->f > 0.0f) || !isfinite(op->f)) return FAIL("attention: bad scale");
      V(0, (int64_t)H * hd); V(1, (int64_t)Hkv * hd); V(2, (int64_t)Hkv * hd); V(3, (int64_t)H * hd);
      if (op->v[3].off != 0 || op->v[3].ld != (uint32_t)(H * hd)) return FAIL("attention output must be contiguous");
      return 0;
    }
    case LC_OP_SWIGLU:
      V(0, 2 * (int64_t)n); V(1, n);
      return 0;
    case LC_OP_ADD:
    case LC_OP_MUL:
      V(0, n); V(1, n); V(2, n);
      return 0;
    case LC_OP_SILU:
    case LC_OP_COPY:
      V(0, n); V(1, n);
      return 0;
    default:
      return FAIL("op %ld: unknown code %u", (long)(op - m->ops), op->code);
  }
#undef V
#undef W
}

static int validate(lc_model *m, char *err, size_t errlen) {
  const lc_header *h = &m->h;
  if (m->map_bytes < LC_HEADER_BYTES) return FAIL("weights.bin: %zu bytes, shorter than its header", m->map_bytes);
  if (memcmp(h->magic, LC_MAGIC, 8)) return FAIL("weights.bin: not a llamac NEON weights file (bad magic)");
  if (h->version != LC_VERSION) return FAIL("weights.bin: format version %u, this runtime reads version %u", h->version, LC_VERSION);
  if (h->header_bytes != LC_HEADER_BYTES) return FAIL("weights.bin: header of %u bytes, expected %u", h->header_bytes, LC_HEADER_BYTES);
  if (h->file_bytes != m->map_bytes) return FAIL("weights.bin: %zu bytes, the header says %llu (truncated or padded)", m->map_bytes, (unsigned long long)h->file_bytes);
  if (!h->n_ops || !h->n_layers || !h->vocab || !h->kv_heads || !h->head_dim || !h->max_seq || !h->max_chunk || h->max_chunk > 4096 ||
      h->max_seq > (1u << 24) || h->head_dim > 4096 || h->kv_f16 > 1)
    return FAIL("weights.bin: bad model header");
  uint64_t t_end = h->tensors_offset + (uint64_t)h->n_tensors * sizeof(lc_tensor);
  uint64_t s_end = h->slots_offset + (uint64_t)h->n_slots * 4;
  uint64_t o_end = h->ops_offset + (uint64_t)h->n_ops * sizeof(lc_op);
  if (h->tensors_offset < LC_HEADER_BYTES || h->tensors_offset % 8 || h->slots_offset < t_end || h->slots_offset % 4 ||
      h->ops_offset < s_end || h->ops_offset % 8 || o_end > m->map_bytes || h->n_tensors > (1u << 20) || h->n_slots > (1u << 16) || h->n_ops > (1u << 22))
    return FAIL("weights.bin: tables outside the file");
  m->tensors = (const lc_tensor *)(m->map + h->tensors_offset);
  m->slot_width = (const uint32_t *)(m->map + h->slots_offset);
  m->ops = (const lc_op *)(m->map + h->ops_offset);
  for (uint32_t i = 0; i < h->n_slots; i++)
    if (!m->slot_width[i] || m->slot_width[i] > (1u << 24)) return FAIL("weights.bin: slot %u has width %u", i, m->slot_width[i]);
  for (uint32_t i = 0; i < h->n_tensors; i++)
    if (check_tensor(m, i, err, errlen)) return -1;
  for (uint32_t i = 0; i < h->n_ops; i++)
    if (check_op(m, &m->ops[i], err, errlen)) return -1;
  return 0;
}

/* ---- load / free ---- */

static void *zalloc(size_t n) {
  void *p = aligned_alloc(64, (n + 63) & ~(size_t)63);
  if (p) memset(p, 0, n);
  return p;
}

void lc_free(lc_model *m) {
  if (!m) return;
  if (m->slots)
    for (uint32_t i = 0; i < m->h.n_slots; i++) free(m->slots[i]);
  if (m->kcache)
    for (uint32_t i = 0; i < m->h.n_layers; i++) { free(m->kcache[i]); free(m->vcache[i]); }
  free(m->slots); free(m->kcache); free(m->vcache); free(m->mats);
  free(m->work); free(m->scratch); free(m->cos_t); free(m->sin_t); free(m->last);
  if (m->map) munmap((void *)m->map, m->map_bytes);
  free(m);
}

lc_model *lc_load(const char *dir, const lc_load_options *opts, char *err, size_t errlen) {
  char path[4096];
  snprintf(path, sizeof path, "%s/manifest.json", dir);
  char *manifest = read_text(path, 1 << 20);
  if (!manifest) { FAIL("%s: cannot read (%s)", path, strerror(errno)); return NULL; }
  char sha[65];
  unsigned long long msize;
  int bad = manifest_entry(manifest, sha, &msize);
  free(manifest);
  if (bad) { FAIL("%s: no weights.bin entry with sha256 and size", path); return NULL; }

  snprintf(path, sizeof path, "%s/weights.bin", dir);
  int fd = open(path, O_RDONLY);
  if (fd < 0) { FAIL("%s: cannot open (%s)", path, strerror(errno)); return NULL; }
  struct stat st;
  if (fstat(fd, &st) || st.st_size <= 0) { close(fd); FAIL("%s: cannot stat or empty", path); return NULL; }
  if ((unsigned long long)st.st_size != msize) {
    close(fd);
    FAIL("%s: %lld bytes, manifest.json says %llu", path, (long long)st.st_size, msize);
    return NULL;
  }
  lc_model *m = calloc(1, sizeof *m);
  if (!m) { close(fd); FAIL("out of memory"); return NULL; }
  m->map_bytes = (size_t)st.st_size;
  void *map = mmap(NULL, m->map_bytes, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (map == MAP_FAILED) { free(m); FAIL("%s: mmap failed (%s)", path, strerror(errno)); return NULL; }
  m->map = map;
  if (opts && opts->verify_sha256) {
    char got[65];
    lc_sha256_hex(m->map, m->map_bytes, got);
    if (strcmp(got, sha)) { lc_free(m); FAIL("%s: sha256 %s does not match manifest.json (%s)", path, got, sha); return NULL; }
  }
  if (m->map_bytes >= LC_HEADER_BYTES) memcpy(&m->h, m->map, sizeof m->h);
  char why[200];
  if (validate(m, why, sizeof why)) { lc_free(m); FAIL("%s: %s", path, why); return NULL; }

  const lc_header *h = &m->h;
  m->mats = calloc(h->n_tensors, sizeof *m->mats);
  m->slots = calloc(h->n_slots, sizeof *m->slots);
  m->kcache = calloc(h->n_layers, sizeof *m->kcache);
  m->vcache = calloc(h->n_layers, sizeof *m->vcache);
  if (!m->mats || !m->slots || !m->kcache || !m->vcache) goto oom;
  size_t work = 16;
  int max_half = 1;
  for (uint32_t i = 0; i < h->n_tensors; i++) {
    const lc_tensor *t = &m->tensors[i];
    lk_matrix *x = &m->mats[i];
    x->data = (uint8_t *)(m->map + t->offset);
    x->bytes = t->bytes;
    x->N = (int)t->N;
    x->K = (int)t->K;
    if (t->type == LC_T_VEC) { if ((int)t->N > max_half) max_half = (int)t->N; continue; }
    x->type = (lk_wtype)t->type;
    x->sym = (int)t->sym;
    x->scale_f16 = (int)t->scale_f16;
    if (t->type == LK_W_Q4) {
      x->G = (int)t->G;
      x->ngroups = (x->K + x->G - 1) / x->G;
      x->Kp = x->ngroups * x->G;
      x->group_bytes = (size_t)LK_NR * (x->scale_f16 ? 2 : 4) + (x->sym ? 0 : (size_t)LK_NR * 4) + (size_t)(x->G / LK_KB) * 128;
      x->panel_bytes = (size_t)x->ngroups * x->group_bytes;
    } else if (t->type == LK_W_Q8) {
      x->G = LK_KB;
      x->Kp = (x->K + LK_KB - 1) / LK_KB * LK_KB;
      x->ngroups = x->Kp / LK_KB;
      x->sym = 1;
      x->scale_f16 = 0;
      x->panel_bytes = 32 + (size_t)(x->Kp / LK_KB) * 256;
    } else {
      x->G = x->K; x->Kp = x->K; x->ngroups = 1; x->sym = 1; x->scale_f16 = 0;
      x->panel_bytes = (size_t)LK_NR * x->K * (t->type == LK_W_F16 ? 2 : 4);
    }
    size_t wb = lk_matmul_work_bytes(x, (int)h->max_chunk);
    if (wb > work) work = wb;
  }
  for (uint32_t i = 0; i < h->n_slots; i++)
    if (!(m->slots[i] = zalloc((size_t)h->max_chunk * m->slot_width[i] * sizeof(float)))) goto oom;
  size_t cache = (size_t)h->kv_heads * h->max_seq * h->head_dim * (h->kv_f16 ? 2 : 4);
  for (uint32_t i = 0; i < h->n_layers; i++)
    if (!(m->kcache[i] = zalloc(cache)) || !(m->vcache[i] = zalloc(cache))) goto oom;
  m->work = zalloc(work);
  m->scratch = zalloc((size_t)h->max_seq * sizeof(float));
  m->cos_t = zalloc((size_t)h->max_chunk * max_half * sizeof(float));
  m->sin_t = zalloc((size_t)h->max_chunk * max_half * sizeof(float));
  m->last = zalloc((size_t)h->vocab * sizeof(float));
  if (!m->work || !m->scratch || !m->cos_t || !m->sin_t || !m->last) goto oom;
  m->tab_tensor = -1;
  return m;
oom:
  lc_free(m);
  FAIL("out of memory allocating buffers for %s", path);
  return NULL;
}

int lc_vocab(const lc_model *m) { return (int)m->h.vocab; }
int lc_max_seq(const lc_model *m) { return (int)m->h.max_seq; }
int lc_cached(const lc_model *m) { return m->len; }
const char *lc_error(const lc_model *m) { return m->err; }
const float *lc_logits(const lc_model *m) { return m->last; }
void lc_reset(lc_model *m) { m->len = 0; m->next_pos = 0; m->err[0] = 0; }

/* ---- the op list ---- */

static float *at(lc_model *m, const lc_view *v) { return m->slots[v->slot] + v->off; }

/* Run the program on M tokens at cache slots len.. and RoPE positions pos[0..M). logits: [M][V]
 * destination, or NULL for the last row only (the lm_head then multiplies one row). */
static void run_chunk(lc_model *m, const int32_t *ids, const int32_t *pos, int M, float *logits) {
  const int len = m->len;
  m->tab_tensor = -1;
  for (uint32_t oi = 0; oi < m->h.n_ops; oi++) {
    const lc_op *op = &m->ops[oi];
    const lc_view *v = op->v;
    int n = op->i[0];
    switch (op->code) {
      case LC_OP_EMBED: {
        float *out = at(m, &v[0]);
        for (int r = 0; r < M; r++) lk_matrix_row(&m->mats[op->w[0]], ids[r], out + (size_t)r * v[0].ld);
        break;
      }
      case LC_OP_RMSNORM:
        for (int r = 0; r < M; r++)
          lk_rmsnorm(at(m, &v[0]) + (size_t)r * v[0].ld, (const float *)m->mats[op->w[0]].data, at(m, &v[1]) + (size_t)r * v[1].ld, 1, n, op->f);
        break;
      case LC_OP_SKIP_RMSNORM:
        for (int r = 0; r < M; r++) {
          float *sum = at(m, &v[3]) + (size_t)r * v[3].ld;
          lk_add(at(m, &v[0]) + (size_t)r * v[0].ld, at(m, &v[1]) + (size_t)r * v[1].ld, sum, n);
          lk_rmsnorm(sum, (const float *)m->mats[op->w[0]].data, at(m, &v[2]) + (size_t)r * v[2].ld, 1, n, op->f);
        }
        break;
      case LC_OP_LINEAR: {
        const lk_matrix *w = &m->mats[op->w[0]];
        const float *x = at(m, &v[0]);
        if (v[1].slot != LC_SLOT_LOGITS) lk_matmul(w, x, M, at(m, &v[1]), m->work);
        else if (logits) lk_matmul(w, x, M, logits, m->work);
        else lk_matmul(w, x + (size_t)(M - 1) * w->K, 1, m->last, m->work);
        break;
      }
      case LC_OP_ROPE: {
        int half = op->i[1] / 2;
        if (m->tab_tensor != (int)op->w[0]) {
          lk_rope_tables((const float *)m->mats[op->w[0]].data, half, pos, M, m->cos_t, m->sin_t);
          m->tab_tensor = (int)op->w[0];
        }
        lk_rope(at(m, &v[0]), (int)v[0].ld, M, op->i[0], op->i[1], m->cos_t, m->sin_t);
        break;
      }
      case LC_OP_ATTENTION: {
        int H = op->i[0], Hkv = op->i[1], hd = op->i[2], layer = op->i[3], S = (int)m->h.max_seq, f16 = (int)m->h.kv_f16;
        lk_kv_store(m->kcache[layer], f16, S, Hkv, hd, len, at(m, &v[1]), (int)v[1].ld, M);
        lk_kv_store(m->vcache[layer], f16, S, Hkv, hd, len, at(m, &v[2]), (int)v[2].ld, M);
        lk_attention(at(m, &v[0]), (int)v[0].ld, M, len, m->kcache[layer], m->vcache[layer], f16, S, H, Hkv, hd, op->f, at(m, &v[3]), m->scratch);
        break;
      }
      case LC_OP_SWIGLU:
        for (int r = 0; r < M; r++) {
          const float *gu = at(m, &v[0]) + (size_t)r * v[0].ld;
          lk_swiglu(gu, gu + n, at(m, &v[1]) + (size_t)r * v[1].ld, n);
        }
        break;
      case LC_OP_ADD:
        for (int r = 0; r < M; r++) lk_add(at(m, &v[0]) + (size_t)r * v[0].ld, at(m, &v[1]) + (size_t)r * v[1].ld, at(m, &v[2]) + (size_t)r * v[2].ld, n);
        break;
      case LC_OP_MUL:
        for (int r = 0; r < M; r++) {
          const float *a = at(m, &v[0]) + (size_t)r * v[0].ld, *b = at(m, &v[1]) + (size_t)r * v[1].ld;
          float *o = at(m, &v[2]) + (size_t)r * v[2].ld;
          for (int i = 0; i < n; i++) o[i] = a[i] * b[i];
        }
        break;
      case LC_OP_SILU:
        for (int r = 0; r < M; r++) {
          const float *a = at(m, &v[0]) + (size_t)r * v[0].ld;
          float *o = at(m, &v[1]) + (size_t)r * v[1].ld;
          for (int i = 0; i < n; i++) o[i] = a[i] / (1.0f + expf(-a[i]));
        }
        break;
      case LC_OP_COPY:
        for (int r = 0; r < M; r++) memmove(at(m, &v[1]) + (size_t)r * v[1].ld, at(m, &v[0]) + (size_t)r * v[0].ld, (size_t)n * sizeof(float));
        break;
    }
  }
  if (logits) memcpy(m->last, logits + (size_t)(M - 1) * m->h.vocab, (size_t)m->h.vocab * sizeof(float));
  m->len += M;
}

int lc_prefill(lc_model *m, const int32_t *ids, int n, int start_pos, float *logits) {
  if (n <= 0) return fail(m->err, sizeof m->err, "prefill: no tokens");
  if (start_pos < 0 || (int64_t)start_pos + n > INT32_MAX) return fail(m->err, sizeof m->err, "prefill: bad start position %d", start_pos);
  if ((int64_t)m->len + n > (int64_t)m->h.max_seq)
    return fail(m->err, sizeof m->err, "prefill: %d cached + %d new tokens exceed the KV cache of %u (compile with a larger --max-seq)", m->len, n, m->h.max_seq);
  for (int i = 0; i < n; i++)
    if (ids[i] < 0 || (uint32_t)ids[i] >= m->h.vocab) return fail(m->err, sizeof m->err, "token id %d outside the vocabulary of %u", ids[i], m->h.vocab);
  int32_t pos[4096];
  for (int c = 0; c < n; c += (int)m->h.max_chunk) {
    int M = n - c < (int)m->h.max_chunk ? n - c : (int)m->h.max_chunk;
    for (int i = 0; i < M; i++) pos[i] = start_pos + c + i;
    run_chunk(m, ids + c, pos, M, logits ? logits + (size_t)c * m->h.vocab : NULL);
  }
  m->next_pos = start_pos + n;
  return 0;
}

int lc_decode(lc_model *m, int32_t id) { return lc_prefill(m, &id, 1, m->next_pos, NULL); }
