// Piece "gemv-io" (not a kernel on its own): spliced into the gemv, gemv-f16 pieces and gemv_rg.wgsl by an include line naming gemv-io.wgsl
// (kernels-wgsl/compose.ts). Edit it here once; every variant that includes it changes with it.

struct Params {
  K: u32,
  rows: u32,          // rows in this shard
  rowBase: u32,       // first output row of this shard
  chunksPerRow: u32,
  groupsPerRow: u32,
  gridX: u32,         // workgroups along x (the grid is folded into 2-D past 65535)
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> w: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read> scales: array<u32>;
@group(0) @binding(3) var<storage, read> zeros: array<u32>;
@group(0) @binding(4) var<storage, read> x: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;
