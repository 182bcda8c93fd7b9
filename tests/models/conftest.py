"""Shared fixtures of the model tests: the tiny generated dataset and, once per session, every trained
recipe run on it with its `ci` preset (needs the models extra)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tinydata import make_tiny_esc50

TRAINED = ["hinton-kd-urbansound8k", "acdnet-micro-esc50", "prune-kd-qad-stm32", "sea-l3-urbansound8k"]


@pytest.fixture(scope="session")
def tiny(tmp_path_factory) -> Path:
    return make_tiny_esc50(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="session")
def ran(tiny, tmp_path_factory) -> dict:
    """{recipe name: (output folder, model cards)} for every recipe that trains."""
    pytest.importorskip("torch", reason="the models extra is not installed")
    pytest.importorskip("tensorflow", reason="the models extra is not installed")
    from tinyhil_models.recipes import environment_threads, run_recipe

    environment_threads()
    out = {}
    for name in TRAINED:
        target = tmp_path_factory.mktemp(name)
        out[name] = (target, run_recipe(name, tiny, target, preset="ci", log=lambda *_: None))
    return out
