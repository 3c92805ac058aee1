/* weights.bin, format version 1: the one file of a llamac NEON artifact the runtime reads. It holds
 * the model program (an op list lowered from the compiler's fused, quantized IR) and every tensor in
 * kernels-arm's packed layout, so a checkpoint of any Llama shape runs with no code change.
 * All integers little-endian. Written by compiler/targets/neon/weights.ts; checked field by field
 * by lc_load (lc_model.c) before anything is read through it.
 *
 *   [0, 128)             header (lc_header)
 *   tensors_offset       n_tensors x lc_tensor (48 bytes)
 *   slots_offset         n_slots x uint32: columns of each activation buffer (rows = max_chunk)
 *   ops_offset           n_ops x lc_op (96 bytes), run in order for every chunk of tokens
 *   tensor data          each tensor 64-byte aligned, at its own offset
 */
#ifndef LC_FORMAT_H
#define LC_FORMAT_H
#include <stdint.h>

#define LC_MAGIC "LLAMACNE"
#define LC_VERSION 1u
#define LC_HEADER_BYTES 128u
#define LC_ALIGN 64u

typedef struct {
  char magic[8];
  uint32_t version, header_bytes;
  uint64_t file_bytes;
  uint32_t n_tensors, n_slots, n_ops, n_layers;
  uint32_t vocab, kv_heads, head_dim, max_seq;
  uint32_t kv_f16, max_chunk, reserved0, reserved1;
  uint64_t tensors_offset, slots_offset, ops_offset;
  uint8_t reserved[128 - 96];
} lc_header;

/* type: lk_wtype (0 q4, 1 q8, 2 f16, 3 f32: a packed [N, K] matrix) or LC_T_VEC (N float32 values). */
#define LC_T_VEC 4u
typedef struct {
  uint32_t type, N, K, G, sym, scale_f16;
  uint64_t offset, bytes, reserved;
} lc_tensor;

/* An operand is a view of an activation buffer: row m's columns start at slot + m*ld + off. */
typedef struct {
  uint32_t slot, ld, off;
} lc_view;

/* The logits operand: written straight into the caller's buffer (or the model's last-row buffer). */
#define LC_SLOT_LOGITS 0xffffffffu

enum {
  LC_OP_EMBED = 1,        /* w0 table [V, H] (any matrix type) -> v0 [M, H]                          */
  LC_OP_RMSNORM = 2,      /* v0 [M, n] -> v1; w0 vector [n]; f eps; i0 n                           */
  LC_OP_LINEAR = 3,       /* v0 [M, K] (contiguous) -> v1 [M, N]; w0 matrix; i0 1 for the lm_head    */
  LC_OP_ROPE = 4,         /* v0 in place, i0 heads, i1 head_dim; w0 inv_freq [hd/2]                   */
  LC_OP_ATTENTION = 5,    /* q v0, k v1, v v2 -> v3; i0 heads, i1 kv heads, i2 hd, i3 layer; f scale */
  LC_OP_SWIGLU = 6,       /* v0 [M, 2F] (gate | up) -> v1 [M, F]; i0 F                              */
  LC_OP_ADD = 7,          /* v0 + v1 -> v2; i0 n                                                    */
  LC_OP_MUL = 8,          /* v0 * v1 -> v2; i0 n                                                    */
  LC_OP_SILU = 9,         /* v0 -> v1; i0 n                                                         */
  LC_OP_COPY = 10,        /* v0 -> v1; i0 n (a strided view made contiguous for a matmul)           */
  LC_OP_SKIP_RMSNORM = 11 /* v0 + v1 -> sum v3, normed v2; w0 [n]; f eps; i0 n                      */
};

typedef struct {
  uint32_t code;
  lc_view v[5];
  uint32_t w[3];
  int32_t i[4];
  float f;
} lc_op;

#endif
