# Sourced by the GPU run scripts (h100-run.sh, bench/tools/webgpu-gpu-run.sh): unpacks what
# h100-prepare.sh put in .h100/ (node, dawn.node, onnxruntime's library, the JS tarball) and sets
# up Vulkan for Dawn. Sets H (the carried folder), T (scratch) and OUTDIR ($OUT, else $GPU_OUT_DEFAULT under the repo).
ROOT=$(pwd)
H=$ROOT/.h100
T=${TMPDIR:-/tmp}/llamac-h100
OUTDIR=${OUT:-$ROOT/$GPU_OUT_DEFAULT}
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
