enable subgroups;

// Subgroup variant of gemv_q8.wgsl (same numerics, same bindings): a row group is one SUBGROUP,
// its lanes take chunks lane, lane + subgroup_size, ... and subgroupAdd reduces each row: no
// workgroup memory, no barrier. The subgroup size is only known on the device, so a workgroup owns
// GROUPS = WG / (the adapter's smallest subgroup size) row groups and subgroup s takes row groups
// s, s + num_subgroups, ... (all of them whatever size the compiler picks). Needs 'subgroups'.

override WG: u32 = 64u;      // threads per workgroup
override GROUPS: u32 = 2u;   // row groups per workgroup: WG / the smallest subgroup size
override ROWS: u32 = 4u;     // rows per row group, at most MAX_ROWS (8)

// #include gemv-q8.wgsl

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32,
        @builtin(subgroup_size) width: u32, @builtin(subgroup_id) sg: u32, @builtin(num_subgroups) nsg: u32) {
  let last = p.rows - 1u;
  setToken(wid.z);
  for (var g = sg; g < GROUPS; g += nsg) {
    let r0 = ((wid.x + wid.y * p.gridX) * GROUPS + g) * ROWS;
    var acc: array<f32, MAX_ROWS>;
    for (var c = lane; c < p.chunksPerRow; c += width * UNROLL) {
      accumulate(&acc, r0, c, true);
      if (UNROLL > 1u) { accumulate(&acc, r0, c + width, c + width < p.chunksPerRow); }
    }
    for (var r = 0u; r < ROWS; r++) {
      var s = subgroupAdd(acc[r]);
      if (KIND == 1u) { s *= scaleAt(min(r0 + r, last)); }
      if (lane == 0u && r0 + r < p.rows) { y[yBase + p.rowBase + r0 + r] = s; }
    }
  }
}
