"""Bulk-load throughput of the DUT protocol, in bytes/s: binary frames (``bload``) at several payload sizes
versus EEMBC hex lines (``db``).

    python tests/bench/bench_protocol.py                 # host DUT (gcc build) over a socket and a pty
    python tests/bench/bench_protocol.py --url socket://127.0.0.1:5555   # any running DUT: twin or board

Each figure is the median of ``--repeat`` loads of the DUT's whole input tensor (``profile%`` input_bytes),
checked afterwards by running the model and reading the output back.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fakes"))  # hostdut

from harness.protocol.client import DeviceClient  # noqa: E402
from hostdut import HostDut, build_host_dut  # noqa: E402
from harness.transport.serial import SerialTransport  # noqa: E402

PAYLOADS = (64, 256, 1024)


def measure(client: DeviceClient, repeat: int) -> list[tuple[str, float]]:
    """Return (method, median bytes/s) for each load method on ``client``'s DUT."""
    size = int(client.device_info()["input_bytes"])
    data = os.urandom(size)
    rows = []
    methods = [(f"bload payload {p}", dict(binary=True, payload_bytes=p)) for p in PAYLOADS]
    methods.append(("db hex lines", dict(binary=False)))
    reference = None
    for label, kwargs in methods:
        rates = []
        for _ in range(repeat):
            start = time.perf_counter()
            client.load_input(data, **kwargs)
            rates.append(size / (time.perf_counter() - start))
        client.infer(1)
        output = client.results()
        if reference is not None and output != reference:
            raise SystemExit(f"{label}: output differs after load; the protocol lost data")
        reference = output
        rows.append((label, statistics.median(rates)))
    return rows


def report(name: str, rows: list[tuple[str, float]], size: int) -> None:
    print(f"\n{name} ({size} bytes per load)")
    for label, rate in rows:
        print(f"  {label:<20} {rate:>14,.0f} bytes/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="pyserial URL of a running DUT (default: build and run the host DUT)")
    parser.add_argument("--baudrate", type=int, default=115200)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per reply line")
    args = parser.parse_args()
    if args.url:
        client = DeviceClient(SerialTransport(args.url, args.baudrate), "dut", timeout=args.timeout)
        client.wait_ready(args.timeout, ping_interval=1.0)
        report(args.url, measure(client, args.repeat), int(client.device_info()["input_bytes"]))
        client.close()
        return
    exe = build_host_dut(tempfile.mkdtemp(prefix="tinyhil-bench-"))
    for link in ("socket", "pty"):
        with HostDut(exe, link) as dut:
            client = DeviceClient(dut.transport, "host", timeout=args.timeout)
            client.wait_ready(args.timeout)
            report(f"host DUT over {link}", measure(client, args.repeat), int(client.device_info()["input_bytes"]))


if __name__ == "__main__":
    main()
