"""The labgrid coordinator as tinyhil uses it: one seam, :class:`Coordinator` (list places, reserve + acquire,
release), implemented on labgrid's Python client API (``labgrid.remote.client.start_session`` and the
coordinator's gRPC stub; labgrid >= 24, whose coordinator is ``labgrid-coordinator``, gRPC on port 20408).

Locking follows labgrid's own scheme: a *reservation* with a filter (``name=PLACE`` or tags such as
``board=stm32f746``) waits in the coordinator's queue until a matching place is free, then the client
*acquires* the allocated place (the lock other clients see) and, when done, releases it and cancels the
reservation.  A second client asking for a held place therefore waits; it never shares the board.
Sources: labgrid docs "Usage > Remote access" and ``labgrid/remote/client.py`` (``create_reservation``,
``_acquire_place``, ``_release_place``), ``labgrid/remote/coordinator.py`` (``schedule_reservations``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from dataclasses import dataclass, field

from harness.errors import FarmError

DEFAULT_PORT = 20408


@dataclass(frozen=True)
class PlaceInfo:
    """A place as the coordinator reports it: ``name``, ``tags`` (e.g. {"board": "stm32f746"}), ``acquired``
    (``host/user`` of the holder or None)."""

    name: str
    tags: dict = field(default_factory=dict)
    acquired: str | None = None


@dataclass(frozen=True)
class Resource:
    """One resource of an acquired place: labgrid class name (``NetworkSerialPort``, ``NetworkPowerPort``,
    ``PyocdServer``, ...), its name in the place, and its parameters (``host``, ``port``, ``speed``, ...)."""

    cls: str
    name: str
    params: dict


def coordinator_address(address: str | None) -> str:
    """``address`` or ``$LG_COORDINATOR`` or ``127.0.0.1:20408`` (a missing port is 20408)."""
    address = address or os.environ.get("LG_COORDINATOR") or "127.0.0.1"
    return address if ":" in address.rsplit("]", 1)[-1] else f"{address}:{DEFAULT_PORT}"


class Coordinator:
    """A connected labgrid client session.  Use as a context manager (the session is closed on exit).

    Raises FarmError (labgrid not installed, coordinator unreachable)."""

    def __init__(self, address: str | None = None) -> None:
        try:
            from labgrid.remote.client import start_session  # noqa: PLC0415
            from labgrid.remote.generated import labgrid_coordinator_pb2 as pb  # noqa: PLC0415
        except ImportError:
            raise FarmError("labgrid is not installed; pip install 'tinyhil[farm]' (labgrid from PyPI)") from None
        self.address = coordinator_address(address)
        self._pb = pb
        try:
            with _quiet_root_logger():  # labgrid logs a refused connection on the root logger before raising
                self._session = start_session(self.address)
        except Exception as exc:  # noqa: BLE001 - labgrid raises its ServerError or grpc errors
            raise FarmError(f"cannot reach the labgrid coordinator at {self.address} ({_first_line(exc)}); start "
                            "labgrid-coordinator there or pass --coordinator HOST:PORT") from None
        self._loop = self._session.loop

    # -- the seam ------------------------------------------------------------------------------------------
    def places(self) -> list[PlaceInfo]:
        """Every place the coordinator knows, with its tags and holder."""
        self._sync()
        return [PlaceInfo(p.name, dict(p.tags), p.acquired) for p in self._session.places.values()]

    def acquire(self, filters: dict[str, str], wait_s: float = 3600.0, poll_s: float = 0.25) -> tuple[str, str]:
        """Reserve a place matching ``filters`` (``{"name": PLACE}`` or tags), wait up to ``wait_s`` seconds for
        the coordinator to allocate one, acquire it; returns (place name, reservation token).  Raises FarmError
        (no such place, timeout: the holder is named)."""
        pb = self._pb
        request = pb.CreateReservationRequest(filters={"main": pb.Reservation.Filter(filter=dict(filters))}, prio=0.0)
        token = self._call(self._session.stub.CreateReservation(request), "reserve").reservation.token
        deadline = time.monotonic() + wait_s
        try:
            while True:
                res = self._call(self._session.stub.PollReservation(pb.PollReservationRequest(token=token)), "poll")
                res = res.reservation
                if res.allocations:
                    name = res.allocations["main"]
                    break
                if res.state in (3, 4):  # labgrid ReservationState expired / invalid (the place was deleted)
                    why = "expired" if res.state == 3 else "became invalid (place deleted?)"
                    raise FarmError(f"the reservation for {_fmt(filters)} {why}; retry, and check the places with "
                                    "labgrid-client")
                if time.monotonic() > deadline:
                    held = [f"{p.name} (held by {p.acquired})" for p in self.places() if _matches(p, filters)]
                    raise FarmError(f"no place matching {_fmt(filters)} became free within {wait_s:.0f} s "
                                    f"({', '.join(held) or 'none matches'}); wait, or release it with "
                                    "`labgrid-client -p PLACE release --kick`")
                time.sleep(poll_s)
            self._call(self._session.stub.AcquirePlace(pb.AcquirePlaceRequest(placename=name)), f"acquire {name}")
            self._sync()
            return name, token
        except BaseException:
            self._cancel(token)
            raise

    def resources(self, place: str) -> list[Resource]:
        """The resources of an acquired ``place`` (labgrid's renamed names).  Raises FarmError (exporter gone)."""
        try:
            entries = self._session.get_target_resources(self._session.places[place])
        except Exception as exc:  # noqa: BLE001
            raise FarmError(f"place {place}: its resources cannot be read ({_first_line(exc)}); check the "
                            "exporter is running") from None
        return [Resource(cls, name, dict(entry.params)) for (name, cls), entry in entries.items()]

    def release(self, place: str, token: str | None) -> None:
        """Release ``place`` and cancel reservation ``token``; never raises (runs on every exit path)."""
        pb = self._pb
        try:
            self._loop.run_until_complete(self._session.stub.ReleasePlace(pb.ReleasePlaceRequest(placename=place)))
        except Exception:  # noqa: BLE001 - already released, or the coordinator went away
            pass
        if token:
            self._cancel(token)

    # -- plumbing ------------------------------------------------------------------------------------------
    def close(self) -> None:
        try:
            self._loop.run_until_complete(self._session.stop())
            self._loop.run_until_complete(self._session.close())
        except Exception:  # noqa: BLE001
            pass

    def __enter__(self) -> "Coordinator":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _cancel(self, token: str) -> None:
        try:
            self._loop.run_until_complete(
                self._session.stub.CancelReservation(self._pb.CancelReservationRequest(token=token)))
        except Exception:  # noqa: BLE001
            pass

    def _sync(self) -> None:
        self._loop.run_until_complete(self._session.sync_with_coordinator())

    def _call(self, coro, what: str):
        try:
            return self._loop.run_until_complete(coro)
        except Exception as exc:  # noqa: BLE001 - grpc.aio.AioRpcError
            detail = getattr(exc, "details", lambda: None)() or _first_line(exc)
            raise FarmError(f"labgrid coordinator {self.address}: {what} failed: {detail}") from None


@contextlib.contextmanager
def _quiet_root_logger():
    """Keep records logged on the root logger (labgrid's) off stderr for the block: tinyhil says it in one line."""
    root = logging.getLogger()
    handler = logging.NullHandler()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)


def _matches(place: PlaceInfo, filters: dict) -> bool:
    tags = {**place.tags, "name": place.name}
    return all(tags.get(k) == v for k, v in filters.items())


def _fmt(filters: dict) -> str:
    return " ".join(f"{k}={v}" for k, v in filters.items())


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
