#!/bin/sh
# bench/RESULTS.md is assembled from one section per area (bench/results/*.md), each written by the
# benchmark's owner; rerun this after updating a section.
set -eu
cd "$(dirname "$0")"
{
  echo '# llamac benchmark results'
  echo
  echo 'What was measured, how to rerun it, and the numbers. Ratios are measured side by side in one run;'
  echo 'the development machines are shared 2-core boxes, so absolute times move between runs.'
  echo 'Performance targets live here, never in timed tests.'
  echo
  echo '| area | command | section |'
  echo '|---|---|---|'
  echo '| importer, quantization | `npm run bench:import`, `npm run bench:quant`, `llamac compile ... --quant int4` | [compiler](#importer-reading-the-1b-shaped-checkpoint) |'
  echo '| compile speed and memory (1B/3B-shaped) | `npm run bench:compile` | [compile](#compile-speed-and-memory-1b-shaped-checkpoint-onnx-artifact) |'
  echo '| ONNX target | `npm run bench:onnx` | [onnx](#onnx-target-onnxruntime-node-cpu-1b-shaped-synthetic-checkpoint-int4) |'
  echo '| NEON kernels | `npm run bench:kernels-arm -- --json` | [kernels-arm](#kernels-arm-arm-neon-kernels-instructions-per-weight-under-qemu) |'
  echo '| WGSL kernels | `npm run -s bench:kernels-wgsl -- --json` | [kernels-wgsl](#kernels-wgsl-gemv-bandwidth-webgpu-via-dawn) |'
  echo '| NEON target | `npm run bench:neon` | [neon](#neon-target-1b-shaped-int4-under-qemu) |'
  echo '| WebGPU target | `npm run bench:webgpu` | [webgpu](#webgpu-target-llamac-runtime-vs-onnxruntime-webgpu-ep-1b-shaped-synthetic-checkpoint-int4) |'
  for f in compiler compile onnx kernels-arm kernels-wgsl neon webgpu; do
    echo
    sed 's/^# /## /' "results/$f.md"
  done
} > RESULTS.md
