#!/usr/bin/env bash
# Install everything tinyhil needs on a fresh Debian/Ubuntu machine (idempotent):
# the Arm GNU toolchain and QEMU from the distribution, tinyhil and its Python dependencies from PyPI.
# PlatformIO's offline project-local platform is set up by tinyhil itself on first build.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v arm-none-eabi-gcc >/dev/null || need_apt+=(gcc-arm-none-eabi libnewlib-arm-none-eabi)
[[ -e /usr/lib/arm-none-eabi/newlib/libc.a || -e /usr/lib/arm-none-eabi/lib/libc.a ]] || need_apt+=(libnewlib-arm-none-eabi)
command -v qemu-system-arm >/dev/null || need_apt+=(qemu-system-arm)
command -v cc >/dev/null || need_apt+=(gcc)
if ((${#need_apt[@]})); then
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  echo "setup: installing ${need_apt[*]} (apt)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if ! $PY -c "import harness, tflite_micro, pytest_timeout" 2>/dev/null \
   || [[ pyproject.toml -nt .tinyhil/.installed ]]; then
  echo "setup: installing tinyhil and its Python dependencies (pip)"
  $PY -m pip install -q --disable-pip-version-check -e ".[test]"
  mkdir -p .tinyhil && touch .tinyhil/.installed
fi
