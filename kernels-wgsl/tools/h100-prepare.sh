#!/bin/sh
# Builds .h100/ (git-ignored) for running the WGSL kernel benchmark and the WebGPU target's bench
# (bench/tools/webgpu-gpu-run.sh) on the GPU machine, which has no Node and no Vulkan loader: an xz'd node binary, dawn.node and ORT's
# library, Debian's libvulkan.so.1, an ICD manifest for NVIDIA's EGL library, and a tarball of
# the JS the bench imports (node_modules subset + the compiled dist/: all of dist/compiler, ~1 MB,
# so a new import there cannot break the GPU run). Stays well under 64 MiB.
# Usage (repo root, after `npx tsc -p tsconfig.json`): sh kernels-wgsl/tools/h100-prepare.sh
set -eu
ROOT=$(pwd)
OUT=$ROOT/.h100
mkdir -p "$OUT"
NODE_BIN=$(command -v node)
[ -f "$OUT/node.xz" ] || xz -6 -T2 -c "$NODE_BIN" > "$OUT/node.xz"
[ -f "$OUT/dawn.node.xz" ] || xz -6 -T2 -c node_modules/webgpu/dist/linux-x64/dawn.node > "$OUT/dawn.node.xz"
ORTBIN=node_modules/onnxruntime-node/bin/napi-v6/linux/x64
[ -f "$OUT/libonnxruntime.so.1.xz" ] || xz -6 -T2 -c "$ORTBIN/libonnxruntime.so.1" > "$OUT/libonnxruntime.so.1.xz"
if [ ! -f "$OUT/libvulkan.so.1" ]; then
  TMP=$(mktemp -d)
  (cd "$TMP" && apt-get download libvulkan1 >/dev/null && dpkg-deb -x libvulkan1_*.deb ex)
  cp -L "$TMP"/ex/usr/lib/x86_64-linux-gnu/libvulkan.so.1 "$OUT/libvulkan.so.1"
  rm -rf "$TMP"
fi
printf '%s\n' '{"file_format_version":"1.0.1","ICD":{"library_path":"libEGL_nvidia.so.0","api_version":"1.4.312"}}' > "$OUT/nvidia_icd.json"
# JS: everything the bench imports, without the big native binaries (they travel xz'd above).
tar -cJf "$OUT/js.tar.xz" \
  --exclude='node_modules/webgpu/dist' --exclude='node_modules/onnxruntime-node/bin/napi-v6/darwin' \
  --exclude='node_modules/onnxruntime-node/bin/napi-v6/win32' --exclude='node_modules/onnxruntime-node/bin/napi-v6/linux/arm64' \
  --exclude='libonnxruntime.so.1' \
  package.json node_modules/webgpu node_modules/onnxruntime-node node_modules/onnxruntime-common \
  node_modules/onnx-proto node_modules/protobufjs node_modules/@protobufjs node_modules/long \
  dist/bench/kernels-wgsl.js dist/bench/webgpu.js dist/kernels-wgsl dist/compiler
du -sh "$OUT" "$OUT"/*
