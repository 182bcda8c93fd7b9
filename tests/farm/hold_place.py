"""One labgrid client for tests/farm/test_labgrid_farm.py, in its own process (as separate clients are):

    python tests/farm/hold_place.py COORDINATOR REQUEST HOLD_S WAIT_S

Holds the place REQUEST (a name or board=NAME), talks to its DUT over RFC 2217 (ping for m-ready, ``profile``),
holds it HOLD_S more seconds, releases it.  Prints ``acquired <monotonic s> <place>``, ``board <name>``,
``releasing <monotonic s> <place>``, or ``error <one line>`` (exit 2)."""

from __future__ import annotations

import sys
import time

from harness.errors import TinyhilError
from harness.farm import PlaceSession
from harness.protocol.client import DeviceClient
from harness.transport.serial import SerialTransport


def main(address: str, request: str, hold_s: float, wait_s: float) -> int:
    try:
        with PlaceSession(request, coordinator=address, wait_s=wait_s) as s:
            print(f"acquired {time.monotonic():.3f} {s.name}", flush=True)
            client = DeviceClient(SerialTransport(s.serial_url), s.board.name, timeout=30, ack_timeout=5)
            try:
                client.wait_ready(20, ping_interval=1.0)
                print(f"board {client.device_info()['board']}", flush=True)
            finally:
                client.close()
            time.sleep(hold_s)
            print(f"releasing {time.monotonic():.3f} {s.name}", flush=True)
    except TinyhilError as exc:
        print(f"error {exc}", flush=True)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])))
