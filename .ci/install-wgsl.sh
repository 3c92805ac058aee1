#!/bin/sh
# Installs what the WGSL kernel tests need on a fresh Debian 12 (bookworm), as root:
# the Vulkan loader and Mesa 25's lavapipe (software Vulkan) from bookworm-backports.
# Bookworm's own Mesa 22.3 lavapipe is rejected by Dawn (no adapter), hence backports.
# Idempotent: re-running adds nothing twice and reinstalls nothing already present.
set -eu

SRC=/etc/apt/sources.list.d/debian.sources
BP=/etc/apt/sources.list.d/bookworm-backports.sources

if [ ! -f "$BP" ]; then
  # Same mirror as the main bookworm entry (first URIs: line), so mirrors/snapshots keep working.
  URI=$(sed -n 's/^URIs:[[:space:]]*//p' "$SRC" 2>/dev/null | head -n1)
  [ -n "$URI" ] || URI=http://deb.debian.org/debian
  cat > "$BP" <<SRCS
Types: deb
URIs: $URI
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRCS
  UPDATED=0
else
  UPDATED=1
fi

have_mesa25() {
  v=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
  case "$v" in 2[5-9].*|[3-9][0-9].*) return 0 ;; *) return 1 ;; esac
}

if have_mesa25 && dpkg-query -W -f='${Status}' libvulkan1 2>/dev/null | grep -q 'ok installed'; then
  echo "install-wgsl: libvulkan1 and Mesa $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers) already installed"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
if [ "$UPDATED" = 0 ] || ! apt-cache policy mesa-vulkan-drivers | grep -q bookworm-backports; then
  apt-get update
fi
apt-get install -y --no-install-recommends libvulkan1
apt-get install -y --no-install-recommends -t bookworm-backports mesa-vulkan-drivers
have_mesa25 || { echo "install-wgsl: mesa-vulkan-drivers is not Mesa >= 25" >&2; exit 1; }
echo "install-wgsl: installed Mesa $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers) lavapipe"
