#!/bin/sh
# The main job on the bundled default checkpoint (fixtures/llama32-tiny): compile it to an int4
# ONNX artifact in out/, then verify the artifact in onnxruntime against transformers' goldens.
set -eu
cd "$(dirname "$0")/.."
MODEL=fixtures/llama32-tiny
OUT=out/llama32-tiny-onnx-int4
rm -rf "$OUT"
npx llamac compile "$MODEL" --target onnx --quant int4 --out "$OUT"
npx llamac verify "$MODEL" --golden golden/llama32-tiny --target onnx --quant int4
npx llamac verify "$MODEL" --golden golden/llama32-tiny --target onnx --quant f32
ls -l "$OUT"
