"""The board catalog schema and its one-line errors."""

from __future__ import annotations

import pytest
import yaml

from harness.boards import CATALOG_PATH, get_board, load_catalog
from harness.errors import CatalogError


def test_catalog_declares_the_four_product_boards_with_datasheet_sizes():
    boards = load_catalog()
    assert set(boards) == {"stm32f746", "nrf52840", "esp32", "rp2040"}
    f7 = boards["stm32f746"]
    assert (f7.clock_hz, f7.flash_bytes, f7.ram_bytes) == (216_000_000, 1 << 20, 320 * 1024)
    assert f7.twin.machine == "mps2-an500" and f7.compiler.flags()[:2] == ["-mcpu=cortex-m7", "-mthumb"]
    assert boards["esp32"].twin is None
    assert boards["rp2040"].compiler.cpu == "cortex-m0plus" and boards["rp2040"].twin.machine == "mps2-an385"


def _write(tmp_path, doc):
    p = tmp_path / "boards.yaml"
    p.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc))
    return p


def test_malformed_catalogs_name_the_problem(tmp_path):
    with pytest.raises(CatalogError, match="not valid YAML"):
        load_catalog(_write(tmp_path, "boards: {a: [1,\n"))
    good = yaml.safe_load(CATALOG_PATH.read_text())
    broken = {"boards": {"stm32f746": {**good["boards"]["stm32f746"], "ram_bytes": -1}}}
    with pytest.raises(CatalogError, match="stm32f746, field ram_bytes"):
        load_catalog(_write(tmp_path, broken))
    typo = {"boards": {"x": {**good["boards"]["stm32f746"], "clok_hz": 1}}}
    with pytest.raises(CatalogError, match="field clok_hz"):
        load_catalog(_write(tmp_path, typo))
    with pytest.raises(CatalogError, match="no top-level 'boards:'"):
        load_catalog(_write(tmp_path, "- 1\n"))
    with pytest.raises(CatalogError, match="unknown board 'stm32'"):
        get_board("stm32")
