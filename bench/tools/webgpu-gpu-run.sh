#!/bin/sh
# Runs bench/webgpu.ts (llamac's WebGPU runtime vs onnxruntime's WebGPU EP, 1B-shaped int4) on the
# GPU machine from what webgpu-gpu-prepare.sh put in .gpu-webgpu/: synthesizes the 1B checkpoint
# (2.5 GB of bf16, bench/.cache/), quantizes and compiles it there, then times both runtimes.
# Writes $OUT/webgpu.md, $OUT/webgpu.json (the --json line), $OUT/webgpu.log, $OUT/gpu.txt.
# Extra arguments go to the bench (default here: --decode 64 --reps 3; e.g. --layers 4 for a quick run).
# Without /dev/nvidiactl it uses the default Vulkan ICD (lavapipe here), which is how it was tested.
set -eu
ROOT=$(pwd)
H=$ROOT/.gpu-webgpu
T=${TMPDIR:-/tmp}/llamac-gpu-webgpu
OUTDIR=${OUT:-$ROOT/out-gpu-webgpu}
mkdir -p "$T" "$OUTDIR"
python3 - "$H" "$T" <<'PY'
import lzma, shutil, sys, os, tarfile
h, t = sys.argv[1], sys.argv[2]
for name in ["node", "dawn.node", "libonnxruntime.so.1"]:
    with lzma.open(os.path.join(h, name + ".xz")) as src, open(os.path.join(t, name), "wb") as dst:
        shutil.copyfileobj(src, dst)
os.chmod(os.path.join(t, "node"), 0o755)
with tarfile.open(os.path.join(h, "js.tar.xz")) as tf:
    tf.extractall(os.getcwd())
PY
mkdir -p node_modules/webgpu/dist/linux-x64
cp "$T/dawn.node" node_modules/webgpu/dist/linux-x64/dawn.node
cp "$T/libonnxruntime.so.1" node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1
cp "$H/libvulkan.so.1" "$T/libvulkan.so.1"
export LD_LIBRARY_PATH="$T${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# NVIDIA's default manifest (libGLX_nvidia) fails without X; the EGL library works headless.
if [ -e /dev/nvidiactl ]; then export VK_ICD_FILENAMES="$H/nvidia_icd.json"; fi
nvidia-smi --query-gpu=name,memory.total,clocks.max.memory --format=csv > "$OUTDIR/gpu.txt" 2>&1 || true
"$T/node" --version
[ $# -gt 0 ] || set -- --decode 64 --reps 3
"$T/node" dist/bench/webgpu.js --json --out "$OUTDIR/webgpu.md" "$@" > "$OUTDIR/webgpu.json" 2> "$OUTDIR/webgpu.log" || { grep -v '^Warning' "$OUTDIR/webgpu.log" | tail -30; exit 1; }
grep -v '^Warning' "$OUTDIR/webgpu.log" | tail -40
cat "$OUTDIR/webgpu.json"
