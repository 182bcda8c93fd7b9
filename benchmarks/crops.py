"""Clip crops on the DUT (issue 12, item 8): the demo run (ACDNet-20 on the stm32f746 twin, the seven CC0 clips)
with the crops cut on the DUT (``auto``: each clip uploaded once) and on the host (``host``: every crop
uploaded), printing per run the wall time (build included with ``--fresh-build``), where the serial time went
(from the run's serial.log: uploads, inferences, the rest), the bytes moved to the DUT per clip (all, and
those of the inputs' uploads: frames with their headers, CRCs, fill and re-sends), and the
clip buffer each board's firmware has for the model (RAM left above the stack).

    python benchmarks/crops.py                        # both modes, build cached after the first
    python benchmarks/crops.py --modes auto --fresh-build      # the demo as `make demo` runs it, build included
    python benchmarks/crops.py --modes auto --limit 2 --boards stm32f746 nrf52840 rp2040

Targets (issue 12): the demo on the twin <= 40 s including the build; ~100 KB moved per ACDNet-20 clip instead
of ~300 KB.  Twin wall times depend on the host's load (QEMU's UART hands over one byte per main-loop turn), so
the load average is printed with each row.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rich.console import Console  # noqa: E402

from harness.bench import BenchConfig, run_bench  # noqa: E402
from harness.boards import get_board  # noqa: E402
from harness.data.fetch import fetch_model  # noqa: E402


LOADS = ("bload", "clip load", "clip pack")  #: the commands whose frames upload inputs


def serial_phases(log: Path) -> dict[str, float]:
    """Seconds between host commands, by command (``bload``, ``clip load``, ``clip pack``, ``infer``, ...), and bytes each way;
    the upload of a load runs until the next command, so its frames are counted with it."""
    events = []
    for line in log.read_text().splitlines():
        if not line.startswith("#"):
            t, direction, data = line.split(" ", 2)
            events.append((float(t), direction, bytes.fromhex(data)))
    phases: dict[str, float] = {"to_dut_bytes": 0, "to_host_bytes": 0, "upload_bytes": 0}
    phase, since, pending = "start", events[0][0], 0
    for t, direction, data in events:
        phases["to_dut_bytes" if direction == ">" else "to_host_bytes"] += len(data)
        if direction == ">" and data[:1].isalpha():
            phases[phase] = phases.get(phase, 0.0) + t - since
            words = data.split(b"*")[0].split(b" ")
            phase, since = " ".join(w.decode() for w in words[: 2 if words[0] == b"clip" else 1]), t
            if phase in ("infer", "clip crop"):  # the loads before it were inference inputs (not measurements)
                phases["upload_bytes"] += pending
            if phase not in LOADS:
                pending = 0
        if direction == ">" and phase in LOADS:
            pending += len(data)
    phases[phase] = phases.get(phase, 0.0) + events[-1][0] - since
    return phases


def clip_buffer_bytes(elf: Path) -> int | None:
    """__clip_end - __clip_start of a firmware ELF (targets/boards/cortex-m.ld.in), None without them."""
    from elftools.elf.elffile import ELFFile

    with open(elf, "rb") as f:
        symtab = ELFFile(f).get_section_by_name(".symtab")
        found = {s.name: s["st_value"] for s in symtab.iter_symbols() if s.name in ("__clip_start", "__clip_end")}
    return found["__clip_end"] - found["__clip_start"] if len(found) == 2 else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modes", nargs="+", default=["auto", "host"], choices=["auto", "host"])
    parser.add_argument("--limit", type=int, default=None, help="clips (default: all seven)")
    parser.add_argument("--fresh-build", action="store_true", help="build the firmware anew for each run")
    parser.add_argument("--boards", nargs="*", default=["stm32f746"], help="twins whose clip buffer is printed")
    args = parser.parse_args()
    local = Path(os.environ.get("TINYHIL_LOCAL_DIR", REPO.parent / "shared"))
    local = local if local.is_dir() else None
    console = Console(stderr=True, quiet=True)
    with tempfile.TemporaryDirectory(prefix="tinyhil-crops-") as tmp:
        print(f"{'mode':5} {'wall s':>7} {'upload s':>8} {'infer s':>7} {'other s':>7} {'to DUT B/clip':>13} "
              f"{'input B/clip':>12} {'cut on DUT':>10} {'bit-exact':>9} {'load avg':>8}")
        for mode in args.modes:
            build_root = Path(tmp) / f"build-{mode}" if args.fresh_build else REPO / ".tinyhil" / "build"
            load = os.getloadavg()[0]
            started = time.monotonic()
            cfg = BenchConfig(model=None, data=None, target=get_board("stm32f746").target(True), limit=args.limit,
                              out=Path(tmp) / mode, local=local, crops=mode, build_root=build_root)
            result = run_bench(cfg, console)
            wall = time.monotonic() - started
            phases = serial_phases(result.path / "serial.log")
            clips = result.summary.samples
            manifest = (result.path / "manifest.json").read_text()
            import json  # noqa: PLC0415

            delivery = json.loads(manifest)["preprocessing"].get("crop_delivery", {})
            uploads = sum(phases.get(name, 0.0) for name in LOADS)
            infer = phases.get("infer", 0.0)
            serial = sum(v for k, v in phases.items() if not k.endswith("_bytes"))
            print(f"{mode:5} {wall:7.1f} {uploads:8.1f} {infer:7.1f} {wall - uploads - infer:7.1f} "
                  f"{phases['to_dut_bytes'] / clips:13,.0f} {phases['upload_bytes'] / clips:12,.0f} "
                  f"{delivery.get('clips_cut_on_dut', 0):>10} {str(result.summary.bit_exact):>9} {load:8.2f}")
            print(f"      serial {serial:.1f} s by command: "
                  + ", ".join(f"{k} {v:.1f}" for k, v in phases.items() if not k.endswith("_bytes")))
        model = fetch_model("acdnet20-int8", local)
        from harness.orchestrate import BuildOptions, prepare  # noqa: PLC0415

        for name in args.boards:
            firmware = prepare(model, get_board(name).target(True), BuildOptions())
            capacity = clip_buffer_bytes(firmware.elf)
            print(f"clip buffer for ACDNet-20 on {name}: {capacity:,} B (a 5 s clip at 20 kHz: 100,000 B) -> "
                  f"{'fits' if capacity and capacity >= 100_000 else 'host crops'}")


if __name__ == "__main__":
    main()
