#!/bin/sh
# The main job on the bundled default checkpoint (fixtures/llama32-tiny): one IR, three targets.
# Compile it to int4 artifacts for ONNX, ARM NEON and WebGPU in out/, then verify each against
# transformers' goldens (float32) and against the reference interpreter on the same quantized graph
# (int4): ONNX in onnxruntime-node, NEON under qemu-aarch64, WebGPU on Dawn (lavapipe without a GPU).
set -eu
cd "$(dirname "$0")/.."
MODEL=fixtures/llama32-tiny
GOLDEN=golden/llama32-tiny
for TARGET in onnx neon webgpu; do
  OUT=out/llama32-tiny-$TARGET-int4
  rm -rf "$OUT"
  npx llamac compile "$MODEL" --target "$TARGET" --quant int4 --out "$OUT"
  npx llamac verify "$MODEL" --golden "$GOLDEN" --target "$TARGET" --quant int4
  ls -l "$OUT"
done
npx llamac verify "$MODEL" --golden "$GOLDEN" --target onnx --quant f32
