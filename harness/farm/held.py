"""A labgrid place held by a helper process, for the pytest plugin.

labgrid's client runs gRPC threads for as long as its session is open, and a process that forks while they run
breaks: pytest-embedded's session fixture starts a ``multiprocessing`` manager (a fork), whose child then dies
(grpc's ``fork_posix.cc``: "Other threads are currently calling into gRPC, skipping fork() handlers").  So the
plugin never opens a labgrid session itself: ``python -m harness.farm.held`` holds the place (a
:class:`~harness.farm.place.PlaceSession`), prints what it found as one JSON line and keeps the place until its
standard input closes, which happens on every exit path of the test session, a SIGKILL included.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from harness.errors import FarmError
from harness.farm.client import Resource
from harness.farm.place import PlaceSession


class HeldPlace(PlaceSession):
    """:class:`PlaceSession` whose labgrid session lives in a child process (same arguments, same attributes
    after entering: ``name``, ``board``, ``is_twin``, ``resources``, ``serial_url``, ``probe``).
    Raises FarmError (the child's one-line error)."""

    _proc: subprocess.Popen | None = None

    def __enter__(self) -> "HeldPlace":
        from harness.boards import get_board  # noqa: PLC0415

        cmd = [sys.executable, "-m", "harness.farm.held", self.request, self.coordinator_address or "",
               str(self.wait_s), str(self.catalog or "")]
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            line = self._proc.stdout.readline()
            found = json.loads(line) if line.strip() else {"error": "the place holder exited without a word "
                                                                    f"(exit {self._proc.wait()})"}
            if "error" in found:
                raise FarmError(found["error"])
            self.name, self.is_twin = found["name"], found["is_twin"]
            self.serial_url, self.probe = found["serial_url"], found["probe"]
            self.resources = [Resource(**r) for r in found["resources"]]
            self.board = get_board(found["board"], self.catalog)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        proc, self._proc, self.name = self._proc, None, None
        if proc is None:
            return
        proc.stdin.close()  # the holder releases the place and exits
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _hold(request: str, coordinator: str, wait_s: str, catalog: str) -> int:
    from harness.errors import TinyhilError  # noqa: PLC0415

    try:
        with PlaceSession(request, coordinator=coordinator or None, wait_s=float(wait_s),
                          catalog=Path(catalog) if catalog else None) as s:
            print(json.dumps({"name": s.name, "board": s.board.name, "is_twin": s.is_twin,
                              "serial_url": s.serial_url, "probe": s.probe,
                              "resources": [vars(r) for r in s.resources]}), flush=True)
            sys.stdin.read()  # until the test session ends (or dies)
    except TinyhilError as exc:
        print(json.dumps({"error": str(exc)}), flush=True)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(_hold(*sys.argv[1:5]))
