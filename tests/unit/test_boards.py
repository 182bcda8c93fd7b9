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


# ---- strict catalog (issue 13) --------------------------------------------------------------------------------
GOOD = yaml.safe_load(CATALOG_PATH.read_text())["boards"]


def _board(**changes):
    entry = {**GOOD["stm32f746"], **changes}
    return {"boards": {"stm32f746": {k: v for k, v in entry.items() if v is not None}}}


@pytest.mark.parametrize("changes, match", [
    ({"ram_bytes": True}, r"field ram_bytes: Input should be a valid integer \(got True\)"),
    ({"ram_bytes": "327680"}, "field ram_bytes: Input should be a valid integer"),
    ({"ram_bytes": 327680.0}, "field ram_bytes"),
    ({"ram_bytes": 4 << 40}, "field ram_bytes: Input should be less than or equal to 67108864"),
    ({"flash_bytes": 512}, "field flash_bytes: Input should be greater than or equal to 1024"),
    ({"clock_hz": 3_000_000_000}, "field clock_hz: Input should be less than or equal to 2000000000"),
    ({"clock_hz": 999_999}, "field clock_hz"),
    ({"title": 42}, "field title: Input should be a valid string"),
    ({"serial": {"baudrate": False}}, "field serial.baudrate"),
    ({"cpi": {"value": True, "source": "a source long enough"}}, "field cpi.value"),
    ({"memory": {"flash_origin": -1, "ram_origin": 0}}, "field memory.flash_origin"),
])
def test_strict_types_and_ranges(tmp_path, changes, match):
    with pytest.raises(CatalogError, match=match) as info:
        load_catalog(_write(tmp_path, _board(**changes)))
    assert "\n" not in str(info.value) and " line " in str(info.value)


def test_the_line_of_a_bad_field_is_named(tmp_path):
    text = CATALOG_PATH.read_text().replace("ram_bytes: 327680", "ram_bytes: true", 1)
    lineno = next(i for i, line in enumerate(text.splitlines(), 1) if "ram_bytes: true" in line)
    with pytest.raises(CatalogError, match=f"line {lineno}: board stm32f746, field ram_bytes"):
        load_catalog(_write(tmp_path, text))


def test_unknown_and_duplicate_keys_are_refused_with_their_line(tmp_path):
    with pytest.raises(CatalogError, match="line 1: unknown top-level key 'bords'"):
        load_catalog(_write(tmp_path, "bords: {}\nboards:\n  x: {}\n"))
    text = CATALOG_PATH.read_text()
    dup_field = text.replace("    ram_bytes: 327680", "    ram_bytes: 327680\n    ram_bytes: 4398046511104", 1)
    lineno = next(i for i, line in enumerate(dup_field.splitlines(), 1) if "4398046511104" in line)
    with pytest.raises(CatalogError, match=f"line {lineno}: duplicate key 'stm32f746.ram_bytes' "
                                           f"\\(first at line {lineno - 1}\\)"):
        load_catalog(_write(tmp_path, dup_field))
    dup_board = text + "  stm32f746:\n    title: again\n"
    with pytest.raises(CatalogError, match="duplicate key 'stm32f746'"):
        load_catalog(_write(tmp_path, dup_board))
    with pytest.raises(CatalogError, match=r"line \d+: board stm32f746, field colour"):
        load_catalog(_write(tmp_path, _board(colour="blue")))


def test_twin_machine_must_be_offered_by_the_installed_qemu(tmp_path):
    from harness.boards import qemu_machines

    if qemu_machines() is None:
        pytest.skip("qemu-system-arm not installed: the machine list cannot be checked here")
    twin = {**GOOD["stm32f746"]["twin"], "machine": "no-such-machine"}
    with pytest.raises(CatalogError, match="twin.machine 'no-such-machine' is not a machine of the installed QEMU"):
        load_catalog(_write(tmp_path, _board(twin=twin)))
    twin = {**GOOD["stm32f746"]["twin"], "machine": "virt"}  # a real QEMU machine without a tinyhil port
    with pytest.raises(CatalogError, match="has no port directory"):
        load_catalog(_write(tmp_path, _board(twin=twin)))


def test_port_directories_are_checked(tmp_path):
    no_twin = {**GOOD["stm32f746"], "twin": None}
    with pytest.raises(CatalogError, match="board nosuch has neither a twin nor a port directory"):
        load_catalog(_write(tmp_path, {"boards": {"nosuch": no_twin}}))
    # a board known only by its twin loads and runs emulated; asking for the real board is refused up front
    board = load_catalog(_write(tmp_path, {"boards": {"nosuch": GOOD["stm32f746"]}}))["nosuch"]
    assert board.target(True).port_dir == "mps2"
    with pytest.raises(CatalogError, match="nosuch has no board port"):
        board.target(False, port="/dev/null")


def test_boards_command_prints_one_line_for_a_bad_catalog(tmp_path):
    from typer.testing import CliRunner

    from harness.cli import app

    res = CliRunner().invoke(app, ["boards", "--catalog", str(_write(tmp_path, _board(ram_bytes=True)))])
    assert res.exit_code == 2 and len(res.output.strip().splitlines()) == 1, res.output


def test_port_and_probe_are_checked_before_the_build():
    from harness.errors import FlashError, TransportError
    from harness.flash.probes import PortInfo, check_link
    from harness.flash.pyocd_flasher import ProbeInfo

    board = load_catalog()["stm32f746"]
    check_link(board.target(True))  # twins need nothing attached
    with pytest.raises(TransportError, match="no serial port for stm32f746: pass --port"):
        check_link(board.target(False), ports=[], probes=[])
    with pytest.raises(TransportError, match="--port /dev/ttyNOPE9 does not exist"):
        check_link(board.target(False, port="/dev/ttyNOPE9"), ports=[PortInfo("/dev/ttyACM0")], probes=[])
    check_link(board.target(False, port="socket://localhost:1"), ports=[], probes=[])
    probe = ProbeInfo(unique_id="066DFF", vendor="ST", product="STLINK", board="", target="")
    with pytest.raises(FlashError, match="--probe 0000 is not attached \\(attached probes: 066DFF\\)"):
        check_link(board.target(False, probe="0000"), ports=[], probes=[probe])
    check_link(board.target(False, probe="066DFF"), ports=[PortInfo("/dev/ttyACM0", serial_number="066DFF")],
               probes=[probe])
