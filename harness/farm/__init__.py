"""Stage "farm": labgrid places as tinyhil DUTs (``bench --place``, study files with ``places``).

* :mod:`harness.farm.client` — the coordinator seam (:class:`Coordinator`: places, acquire, resources,
  release) on labgrid's Python client API.
* :mod:`harness.farm.place` — :class:`PlaceSession`: a held place -> board, Target, serial URL (RFC 2217),
  remote probe, power; :func:`place_connect` reaches the DUT through it.
* :mod:`harness.farm.probe` — flashing through pyocd's remote probe server (``remote:HOST:PORT``).
* :mod:`harness.farm.localfarm` — a whole farm on localhost (coordinator, exporter + ser2net, socat, twins)
  for the tests, the benchmark and trying tinyhil's farm mode without boards.

labgrid is an optional dependency (``pip install 'tinyhil[farm]'``); nothing here imports it at module level.
"""

from __future__ import annotations

from pathlib import Path

from harness.errors import FarmError
from harness.farm.client import Coordinator, PlaceInfo, Resource, coordinator_address
from harness.farm.place import PlaceSession, place_connect

__all__ = ["Coordinator", "PlaceInfo", "PlaceSession", "Resource", "coordinator_address", "place_boards",
           "place_connect"]


def place_boards(requests: list[str], *, coordinator: str | None = None,
                 catalog: Path | None = None) -> list[tuple[str, str]]:
    """(place name, board name) of every place ``requests`` names (place names, or ``board=NAME`` for all places
    of a board type), in request order.  Raises FarmError (no match, no board tag), CatalogError."""
    from harness.boards import get_board  # noqa: PLC0415

    with Coordinator(coordinator) as c:
        places = c.places()
    found: dict[str, str] = {}
    for req in requests:
        key, _, value = req.partition("=")
        match = [p for p in places if (p.tags.get(key) == value if value else p.name == req)]
        if not match:
            raise FarmError(f"no labgrid place matches {req!r} (places: {', '.join(p.name for p in places) or 'none'});"
                            " fix places: in the study file")
        for p in match:
            if "board" not in p.tags:
                raise FarmError(f"place {p.name} has no board tag; labgrid-client -p {p.name} set-tags board=NAME")
            found[p.name] = get_board(p.tags["board"], catalog).name
    return list(found.items())
