"""The DUT serial protocol, host side: constants (generated into C), frames, line parsing, the client.

See targets/PROTOCOL.md for the wire format.
"""

from harness.protocol.client import DeviceClient, Laps

__all__ = ["DeviceClient", "Laps"]
