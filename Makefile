# The two entry points of README.md. Both install what they need first (scripts/setup.sh).
# TINYHIL_LOCAL_DIR: a local copy of the demo model and clips (models/, audio/ as in ../shared);
# unset and no ../shared beside the repository -> the demo downloads them from their public sources.
# PYTHON: the interpreter the virtual environment is made with; everything then runs in $(VENV).
PYTHON ?= python3
export TINYHIL_VENV ?= .venv
VPY := $(TINYHIL_VENV)/bin/python
SHARED := $(abspath ../shared)
export TINYHIL_LOCAL_DIR ?= $(if $(wildcard $(SHARED)/models),$(SHARED),)

.PHONY: setup demo test
setup:
	PYTHON=$(PYTHON) bash scripts/setup.sh

# The demo needs no training stack (torch, tensorflow): a lean install.
demo:
	TINYHIL_EXTRAS=test PYTHON=$(PYTHON) bash scripts/setup.sh
	$(VPY) -m harness.cli bench --board stm32f746 --emulate

# The whole suite, then the on-device suite (tests/hil) against each Arm board's emulated twin, with tinyhil's
# own code and with TFLM + CMSIS-NN: the same tests a board farm runs with --probe/--port instead of --emulate.
HIL_TWINS := --board=stm32f746 --board=nrf52840 --board=rp2040
HIL_BACKENDS := --tinyhil-backend=tinyhil --tinyhil-backend=tflm-cmsis-nn
test: setup
	$(VPY) -m pytest
	$(VPY) -m pytest tests/hil $(HIL_TWINS) $(HIL_BACKENDS) --tinyhil-emulate -p no:cacheprovider
