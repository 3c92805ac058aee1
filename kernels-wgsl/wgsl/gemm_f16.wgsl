enable f16;

// Tiled GEMM for prefill: Y[m, rowBase + n] = sum_k X[m, k] * W[n, k] for one row shard of W,
// f32 accumulation. 64 x 64 output tile per workgroup, K in steps of 32 through workgroup memory;
// 16 x 16 threads, each a 4 x 4 block. Weights dequantize once per tile load (same layout as gemv).
// shader-f16 variant: the weight tile is kept in f16 (half the workgroup memory traffic); the
// products and accumulation stay f32.

// the weight tile's element type: the only difference between gemm.wgsl and gemm_f16.wgsl
alias WT = f16;

// #include gemm.wgsl
