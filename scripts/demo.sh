#!/bin/sh
# The main job on the bundled default checkpoint (fixtures/llama32-tiny): one IR, three targets.
# ONNX with the default int4 (AWQ + GPTQ, self-calibrated), verified in onnxruntime against the
# reference interpreter on the same quantized graph, and float32 against transformers' goldens.
# NEON (under qemu-aarch64) and WebGPU (Dawn; lavapipe without a GPU) with int4 `--quant-method
# search`: the same check, without repeating the calibration for each compile and verify (minutes).
set -eu
cd "$(dirname "$0")/.."
MODEL=fixtures/llama32-tiny
GOLDEN=golden/llama32-tiny
run() {
  TARGET=$1; shift
  OUT=out/llama32-tiny-$TARGET-int4
  rm -rf "$OUT"
  npx llamac compile "$MODEL" --target "$TARGET" --quant int4 "$@" --out "$OUT"
  npx llamac verify "$MODEL" --golden "$GOLDEN" --target "$TARGET" --quant int4 "$@"
  ls -l "$OUT"
}
run onnx
run neon --quant-method search
run webgpu --quant-method search
npx llamac verify "$MODEL" --golden "$GOLDEN" --target onnx --quant f32
