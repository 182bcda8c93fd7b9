#!/usr/bin/env bash
# Install everything tinyhil needs on a fresh Debian/Ubuntu machine (idempotent):
# the Arm GNU toolchain and QEMU from the distribution, tinyhil and its Python dependencies from PyPI.
# PlatformIO's offline project-local platform is set up by tinyhil itself on first build.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v arm-none-eabi-gcc >/dev/null || need_apt+=(gcc-arm-none-eabi libnewlib-arm-none-eabi)
[[ -e /usr/lib/arm-none-eabi/newlib/libc.a || -e /usr/lib/arm-none-eabi/lib/libc.a ]] || need_apt+=(libnewlib-arm-none-eabi)
# C++ standard headers for the TFLM backends (harness/backends/tflm_lib.py): headers only, nothing of libstdc++ is linked
compgen -G '/usr/include/newlib/c++/*/new' >/dev/null || need_apt+=(libstdc++-arm-none-eabi-dev)
command -v qemu-system-arm >/dev/null || need_apt+=(qemu-system-arm)
# Xtensa lx106 compiler: the ESP32 portability check of the kernels (no ESP32/LX6 toolchain exists in Debian)
command -v xtensa-lx106-elf-gcc >/dev/null || need_apt+=(gcc-xtensa-lx106 picolibc-xtensa-lx106-elf)
command -v cc >/dev/null || need_apt+=(gcc)
# clang with libFuzzer and the ASan/UBSan runtimes: the protocol fuzz target (make -C targets/host fuzz); the
# runtimes are only a Recommends of clang, so they are named (Debian 12: LLVM 14)
command -v clang >/dev/null || need_apt+=(clang)
compgen -G '/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-*.a' >/dev/null || need_apt+=(libclang-rt-14-dev)
if ((${#need_apt[@]})); then
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  echo "setup: installing ${need_apt[*]} (apt)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
# Extras for the tests: `test`, plus `models` (torch==2.13.0 CPU, torch-pruning, tensorflow) so the recipe tests
# run (tests/models; they skip without it).  TINYHIL_EXTRAS overrides, e.g. TINYHIL_EXTRAS=test for a lean install.
EXTRAS=${TINYHIL_EXTRAS:-test,models}
if ! $PY -c "import harness, tflite_micro, pytest_timeout" 2>/dev/null \
   || { [[ ,$EXTRAS, == *,models,* ]] && ! $PY -c "import importlib.util as u, sys; sys.exit(not all(u.find_spec(m) for m in ('torch', 'torch_pruning', 'tensorflow')))"; } \
   || [[ pyproject.toml -nt .tinyhil/.installed ]]; then
  echo "setup: installing tinyhil and its Python dependencies (pip, extras: $EXTRAS)"
  start=$SECONDS
  $PY -m pip install -q --disable-pip-version-check -e ".[$EXTRAS]"
  echo "setup: pip install took $((SECONDS - start)) s"
  mkdir -p .tinyhil && touch .tinyhil/.installed
fi
