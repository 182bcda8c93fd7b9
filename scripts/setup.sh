#!/usr/bin/env bash
# Install everything tinyhil needs on a fresh Debian/Ubuntu machine (idempotent):
# the Arm GNU toolchain and QEMU from the distribution, tinyhil and its Python dependencies from PyPI.
# PlatformIO's offline project-local platform is set up by tinyhil itself on first build.
# Python packages go into a virtual environment, $TINYHIL_VENV (default .venv), made with $PYTHON (default python3):
# Debian 12's own Python refuses `pip install` outside one (PEP 668, externally-managed-environment).  The venv
# sees the base interpreter's site-packages (--system-site-packages), so packages a machine already has (a CPU torch
# wheel, TensorFlow) are reused, not downloaded again; everything else is installed into the venv.
# TINYHIL_SKIP_APT=1 skips the apt step (tests of the Python part).
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
# Live and over-the-air audio (harness/audio): PortAudio for sounddevice; PulseAudio + its ALSA plugin for the
# virtual sound card of the tests (harness/audio/virtual.py: a null-sink loopback and a file-fed microphone)
{ ldconfig -p 2>/dev/null || /sbin/ldconfig -p; } 2>/dev/null | grep libportaudio.so.2 >/dev/null || need_apt+=(libportaudio2)
command -v pulseaudio >/dev/null || need_apt+=(pulseaudio)
command -v pactl >/dev/null || need_apt+=(pulseaudio-utils)
[[ -e /usr/share/alsa/alsa.conf.d/pulse.conf ]] || need_apt+=(libasound2-plugins)
# pdflatex + booktabs: tests/report compiles the report's LaTeX table (~80 MB; the test checks structure only without it)
command -v pdflatex >/dev/null || need_apt+=(texlive-latex-recommended)
# A labgrid farm on localhost (tests/farm, docs/farm.md): ser2net, which labgrid-exporter runs in RFC 2217 mode,
# and socat, which bridges a pseudo-terminal to a twin's UART
[[ -x /usr/sbin/ser2net ]] || command -v ser2net >/dev/null || need_apt+=(ser2net)
command -v socat >/dev/null || need_apt+=(socat)
# libusb: the official MLPerf Tiny runner's pyusb needs a backend to start (tests/mlperf)
{ ldconfig -p 2>/dev/null || /sbin/ldconfig -p; } 2>/dev/null | grep libusb-1.0.so.0 >/dev/null || need_apt+=(libusb-1.0-0)
BASE_PY=${PYTHON:-python3}
VENV=${TINYHIL_VENV:-.venv}
[[ -x $VENV/bin/python ]] || $BASE_PY -c "import ensurepip, venv" 2>/dev/null || need_apt+=(python3-venv)
[[ ${TINYHIL_SKIP_APT:-0} == 1 ]] && need_apt=()
if ((${#need_apt[@]})); then
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  echo "setup: installing ${need_apt[*]} (apt)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if [[ ! -x $VENV/bin/python ]]; then
  echo "setup: creating the virtual environment $VENV ($($BASE_PY -c 'import sys; print(sys.executable, sys.version.split()[0])'))"
  $BASE_PY -m venv --system-site-packages "$VENV"
fi
PY=$VENV/bin/python
# Extras for the tests: `test`, plus `models` (torch==2.13.0 CPU, torch-pruning, tensorflow) so the recipe tests
# run (tests/models; they skip without it).  TINYHIL_EXTRAS overrides, e.g. TINYHIL_EXTRAS=test for a lean install.
EXTRAS=${TINYHIL_EXTRAS:-test,models}
if ! $PY -c "import harness, sys, tflite_micro, pytest_timeout; sys.exit(not harness.__file__.startswith('$PWD/'))" 2>/dev/null \
   || { [[ ,$EXTRAS, == *,models,* ]] && ! $PY -c "import importlib.util as u, sys; sys.exit(not all(u.find_spec(m) for m in ('torch', 'torch_pruning', 'tensorflow')))"; } \
   || [[ pyproject.toml -nt $VENV/.tinyhil-installed ]]; then
  echo "setup: installing tinyhil and its Python dependencies (pip, extras: $EXTRAS)"
  start=$SECONDS
  $PY -m pip install -q --disable-pip-version-check -e ".[$EXTRAS]"
  echo "setup: pip install took $((SECONDS - start)) s"
  touch "$VENV/.tinyhil-installed"
fi
# PlatformIO's offline core (.tinyhil/pio) and toolchain package, so that a plain `pio run -e <env>` works too
$PY -m harness.pio_setup >/dev/null
