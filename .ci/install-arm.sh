#!/bin/sh
# Cross toolchain + user-mode qemu for kernels-arm tests and bench (Debian 12, run as root).
# Idempotent: skips apt entirely when every tool is already present.
set -eu
need=0
for tool in aarch64-linux-gnu-gcc qemu-aarch64 gcc make; do
  command -v "$tool" >/dev/null 2>&1 || need=1
done
[ -f /usr/aarch64-linux-gnu/lib/libc.a ] || need=1
if [ "$need" = 1 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  # qemu-user (not qemu-user-static): only the dynamic build can load TCG plugins (instruction counting).
  # gcc: host compiler for the qemu plugin in bench/tools.
  apt-get install -y --no-install-recommends gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user gcc libc6-dev make
fi
aarch64-linux-gnu-gcc --version | head -n 1
qemu-aarch64 --version | head -n 1
