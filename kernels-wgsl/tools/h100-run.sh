#!/bin/sh
# Runs the WGSL benchmark on the GPU machine from what h100-prepare.sh put in .h100/.
# Writes $OUT/bench.json (the --json line) and $OUT/bench.log (progress, per-config numbers).
# Extra arguments go to the bench (e.g. --quick: best known float-x configs, no ORT, whole q8 sweep).
set -eu
ROOT=$(pwd)
H=$ROOT/.h100
T=${TMPDIR:-/tmp}/llamac-h100
OUTDIR=${OUT:-$ROOT/out-h100}
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
"$T/node" dist/bench/kernels-wgsl.js --json --verbose "$@" > "$OUTDIR/bench.json" 2> "$OUTDIR/bench.log" || { tail -30 "$OUTDIR/bench.log"; exit 1; }
grep -v '^Warning' "$OUTDIR/bench.log" | tail -60
cat "$OUTDIR/bench.json"
