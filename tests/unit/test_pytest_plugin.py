"""The pytest plugin itself, run in a nested pytest session (pytester): options, parametrization, the board
marker, and skipping on-device tests with a reason when no hardware (or no twin) is available."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

from harness.pytest_plugin import per_board

pytest_plugins = ["pytester"]

DUT_TEST = """
def test_on_device(tinyhil_dut):
    raise AssertionError("must not run without a device")
"""


@pytest.fixture
def hil(pytester: pytest.Pytester, tmp_path):
    # labgrid's plugin (installed with the farm extra) cannot be configured twice in one process (its StepLogger
    # asserts), which nested in-process sessions do; its coexistence with tinyhil is tested in a subprocess below
    pytester.makeini(f"[pytest]\ntinyhil_build_root = {tmp_path / 'build'}\naddopts = -p no:labgrid\n")
    return pytester


def test_plugin_is_registered_as_a_pytest11_entry_point():
    eps = [e for e in entry_points(group="pytest11") if e.name == "tinyhil"]
    assert eps and eps[0].value == "harness.pytest_plugin"


def test_without_board_on_device_tests_skip_with_a_reason(hil):
    hil.makepyfile(DUT_TEST)
    result = hil.runpytest("-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*no --board given (e.g. pytest --board=stm32f746 --tinyhil-emulate)*"])


def test_board_without_probe_or_port_skips_and_builds_nothing(hil, tmp_path):
    hil.makepyfile(DUT_TEST)
    result = hil.runpytest("--board=stm32f746", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*no probe or serial port given for stm32f746: pass --tinyhil-probe UID*--tinyhil-emulate*"])
    assert not (tmp_path / "build").exists()


def test_emulate_on_a_board_without_twin_skips(hil):
    hil.makepyfile(DUT_TEST)
    result = hil.runpytest("--board=esp32", "--tinyhil-emulate", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*esp32 has no emulated twin*"])


def test_each_board_parametrizes_the_tests(hil):
    hil.makepyfile("""
        def test_catalog_entry(tinyhil_board):
            assert tinyhil_board.name in ("stm32f746", "rp2040") and tinyhil_board.flash_bytes > 0
    """)
    result = hil.runpytest("--board=stm32f746", "--board=rp2040", "-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*test_catalog_entry?stm32f746? PASSED*", "*test_catalog_entry?rp2040? PASSED*"])


def test_board_marker_limits_a_test_to_some_boards(hil):
    hil.makepyfile("""
        import pytest

        @pytest.mark.board("nrf52840")
        def test_only_nrf(tinyhil_board):
            assert tinyhil_board.name == "nrf52840"
    """)
    result = hil.runpytest("--board=stm32f746", "--board=nrf52840", "-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*only for boards nrf52840 (this run: stm32f746)*"])


def test_unknown_board_is_a_usage_error(hil):
    hil.makepyfile(DUT_TEST)
    result = hil.runpytest("--board=nosuch")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown board 'nosuch'; known boards: esp32, nrf52840, rp2040, stm32f746*"])


def test_probe_and_port_are_given_per_board():
    assert per_board(["0671FF"], ["stm32f746"], "probe") == {"stm32f746": "0671FF"}
    assert per_board(["stm32f746=A", "rp2040=B"], ["stm32f746", "rp2040"], "probe") == {"stm32f746": "A",
                                                                                         "rp2040": "B"}
    assert per_board(["socket://127.0.0.1:4000"], ["rp2040"], "port") == {"rp2040": "socket://127.0.0.1:4000"}
    with pytest.raises(pytest.UsageError, match="write --tinyhil-probe BOARD=X"):
        per_board(["X"], ["stm32f746", "rp2040"], "probe")
    with pytest.raises(pytest.UsageError, match="board 'esp32' is not among"):
        per_board(["esp32=/dev/ttyUSB0"], ["stm32f746"], "port")


def test_a_given_port_means_hardware_is_attached(hil):
    """With --port the test is not skipped: the plugin tries the board (here its firmware fixture only)."""
    hil.makepyfile("""
        def test_target(tinyhil_options, tinyhil_board):
            assert tinyhil_options.hardware_reason(tinyhil_board.name) is None
            assert tinyhil_options.ports == {"rp2040": "/dev/ttyACM7"} and not tinyhil_options.emulate
    """)
    result = hil.runpytest("--board=rp2040", "--tinyhil-port=/dev/ttyACM7")
    result.assert_outcomes(passed=1)


def test_each_backend_parametrizes_the_firmware_tests(hil):
    hil.makepyfile("""
        def test_backend(tinyhil_backend, tinyhil_firmware):
            assert tinyhil_firmware.backend is tinyhil_backend
            assert tinyhil_backend.value in ("tinyhil", "tflm-cmsis-nn")
    """)
    result = hil.runpytest("--board=stm32f746", "--tinyhil-emulate", "--tinyhil-backend=tinyhil",
                           "--tinyhil-backend=tflm-cmsis-nn",
                           "--collect-only", "-q")
    result.stdout.fnmatch_lines(["*test_backend?tinyhil-stm32f746?*", "*test_backend?tflm-cmsis-nn-stm32f746?*"])


def test_unknown_backend_is_a_usage_error_with_a_suggestion(hil):
    hil.makepyfile(DUT_TEST)
    result = hil.runpytest("--tinyhil-backend=tflm-cmsisnn")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*tflm-cmsisnn*did you mean*tflm-cmsis-nn*"])


def test_a_misspelled_board_gets_a_suggestion(hil):
    hil.makepyfile(DUT_TEST)
    result = hil.runpytest("--board=stm32f764")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown board 'stm32f764'; did you mean 'stm32f746'?*"])


def test_a_projects_own_board_fixture_is_left_alone(hil):
    """An unrelated project with its own ``board``, ``target`` and ``dut`` fixtures: its tests run untouched
    (no parametrization, no "no --board given" skip)."""
    hil.makeconftest("""
        import pytest

        @pytest.fixture
        def board():
            return "my-own-board"

        @pytest.fixture
        def dut():
            return "my-own-dut"
    """)
    hil.makepyfile("""
        import pytest

        @pytest.mark.board("elsewhere")
        def test_mine(board, dut):
            assert (board, dut) == ("my-own-board", "my-own-dut")
    """)
    result = hil.runpytest("-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*test_mine PASSED*"])


def test_a_plugin_that_owns_board_leaves_tinyhil_the_prefixed_option(hil):
    """A plugin registered before tinyhil that claims ``--board``: tinyhil registers only ``--tinyhil-board``
    and says so in the header; both plugins' options parse."""
    hil.syspathinsert()
    (hil.path / "otherplugin.py").write_text(
        "def pytest_addoption(parser):\n"
        "    parser.getgroup('other').addoption('--board', dest='other_board')\n")
    hil.makepyfile("""
        def test_both(request, tinyhil_board):
            assert request.config.getoption("other_board") == "theirs"
            assert tinyhil_board.name == "rp2040"
    """)
    result = hil.runpytest("-p", "otherplugin", "-p", "no:tinyhil", "-p", "harness.pytest_plugin",
                           "--board=theirs", "--tinyhil-board=rp2040", "-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*another plugin owns --board; name tinyhil's boards with --tinyhil-board*"])


def test_beside_pytest_embedded_both_plugins_get_their_options(hil):
    """pytest-embedded (installed with the test extra) owns --port, --target and fixtures ``dut``/``target``;
    with tinyhil's prefixed names both load, and each gets its own options."""
    pytest.importorskip("pytest_embedded", reason="pytest-embedded comes with tinyhil's test extra")
    hil.makepyfile("""
        def test_both(request, tinyhil_options):
            assert request.config.pluginmanager.hasplugin("pytest_embedded")
            assert request.config.getoption("port") == "/dev/ttyUSB9"
            assert tinyhil_options.ports == {"rp2040": "/dev/ttyACM7"}
    """)
    result = hil.runpytest("--port=/dev/ttyUSB9", "--board=rp2040", "--tinyhil-port=/dev/ttyACM7", "-v")
    result.assert_outcomes(passed=1)


def test_beside_labgrids_plugin_which_owns_the_target_fixture(hil):
    """labgrid's pytest plugin (``--lg-env``, fixtures ``env``, ``target``, ``strategy``) loads with tinyhil's in
    one session; tinyhil's fixtures keep their own names (run as a subprocess: labgrid configures once per process)."""
    pytest.importorskip("labgrid", reason="labgrid comes with tinyhil's farm and test extras")
    hil.makeini("[pytest]\n")
    hil.makepyfile("""
        def test_both(request, tinyhil_options):
            assert request.config.pluginmanager.hasplugin("labgrid")
            assert request.config.getoption("lg_env") is None
            assert tinyhil_options.boards == ["stm32f746"]
    """)
    # pytest-embedded is left out here: its own autouse fixtures would resolve labgrid's `target` (their clash)
    result = hil.runpytest_subprocess("--board=stm32f746", "-p", "no:cacheprovider", "-p", "no:pytest_embedded")
    result.assert_outcomes(passed=1)
