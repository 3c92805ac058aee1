#!/bin/sh
# Runs bench/webgpu.ts (llamac's WebGPU runtime vs onnxruntime's WebGPU EP, 1B-shaped int4) on the
# GPU machine from what kernels-wgsl/tools/h100-prepare.sh put in .h100/ (the same carried folder
# as the kernel bench): synthesizes the 1B checkpoint (2.5 GB of bf16, bench/.cache/), quantizes
# and compiles it there, then times both runtimes. No checkpoint travels, so the folder stays well
# under the 64 MiB the device tool carries.
# Writes $OUT/webgpu.md, $OUT/webgpu.json (the --json line), $OUT/webgpu.log, $OUT/gpu.txt.
# Extra arguments go to the bench (default here: --decode 64 --reps 3; e.g. --layers 4 for a quick run).
# Without /dev/nvidiactl it uses the default Vulkan ICD (lavapipe here), which is how it was tested.
set -eu
GPU_OUT_DEFAULT=out-gpu-webgpu
. kernels-wgsl/tools/gpu-env.sh
[ $# -gt 0 ] || set -- --decode 64 --reps 3
"$T/node" dist/bench/webgpu.js --json --out "$OUTDIR/webgpu.md" "$@" > "$OUTDIR/webgpu.json" 2> "$OUTDIR/webgpu.log" || { grep -v '^Warning' "$OUTDIR/webgpu.log" | tail -30; exit 1; }
grep -v '^Warning' "$OUTDIR/webgpu.log" | tail -40
cat "$OUTDIR/webgpu.json"
