#!/bin/sh
# Installs Debian's chromium for the real-browser tests (WebGPU demo page, HTML reports), as root.
# Chromium 156 from bookworm runs WebGPU compute headless on its bundled SwiftShader (see
# ../shared/TOOLCHAIN.md for the flags). playwright-core drives it; it downloads no browser of its own.
# Idempotent: nothing is installed when /usr/bin/chromium is already there.
set -eu
if [ ! -x /usr/bin/chromium ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
/usr/bin/chromium --version
