#!/bin/sh
# Runs the WGSL benchmark on the GPU machine from what h100-prepare.sh put in .h100/.
# Writes $OUT/bench.json (the --json line) and $OUT/bench.log (progress, per-config numbers).
# Extra arguments go to the bench (e.g. --quick: best known float-x configs, no ORT, whole q8 sweep).
set -eu
GPU_OUT_DEFAULT=out-h100
. kernels-wgsl/tools/gpu-env.sh
"$T/node" dist/bench/kernels-wgsl.js --json --verbose "$@" > "$OUTDIR/bench.json" 2> "$OUTDIR/bench.log" || { tail -30 "$OUTDIR/bench.log"; exit 1; }
grep -v '^Warning' "$OUTDIR/bench.log" | tail -60
cat "$OUTDIR/bench.json"
