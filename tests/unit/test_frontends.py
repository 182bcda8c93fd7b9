"""Front ends chosen from a model card or --front-end (harness/data/frontends.py)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from harness.data.frontends import (LogMelFrontEnd, RawFrontEnd, card_front_end, front_end_from_spec,
                                    quantize_input)
from harness.errors import DataError


def test_spec_strings_and_card_dicts_give_the_same_front_end():
    a = front_end_from_spec("logmel:sample_rate=8000,frames=32,bands=16,fmax=3800.0")
    b = front_end_from_spec({"kind": "logmel", "sample_rate": 8000, "frames": 32, "bands": 16, "fmax": 3800.0})
    assert a == b == LogMelFrontEnd(sample_rate=8000, frames=32, bands=16, fmax=3800.0)
    assert front_end_from_spec(b.describe()) == b  # a card's description round-trips
    assert front_end_from_spec("raw") == RawFrontEnd()


@pytest.mark.parametrize("spec, message", [
    ("mfcc", "unknown front end 'mfcc'; use raw or logmel"),
    ("logmel:bins=40", "front end logmel: unknown field(s) bins; known:"),
    ("logmel:frames=many", "'frames=many' is not key=number"),
])
def test_bad_front_end_specs_are_one_line_errors(spec, message):
    with pytest.raises(DataError, match=re.escape(message)):
        front_end_from_spec(spec)


def test_card_front_end_reads_the_card_beside_the_model(tmp_path):
    model = tmp_path / "student-int8.tflite"
    model.write_bytes(b"")
    assert card_front_end(model) is None
    (tmp_path / "student-int8.card.json").write_text(json.dumps({"frontend": {"kind": "logmel", "frames": 32}}))
    assert card_front_end(model) == {"kind": "logmel", "frames": 32}
    (tmp_path / "student-int8.card.json").write_text("{not json")
    with pytest.raises(DataError, match="is not a tinyhil model card"):
        card_front_end(model)


def test_quantize_input_rounds_half_to_even_and_clamps():
    x = np.array([0.25, 0.75, -0.25, 100.0, -100.0], np.float32)
    assert quantize_input(x, 0.5, 1).tolist() == [1, 3, 1, 127, -128]
